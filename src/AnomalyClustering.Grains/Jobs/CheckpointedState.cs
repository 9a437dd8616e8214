using Orleans.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// A reentrant grain's persisted state, written one write at a time (interleaved turns must not write concurrently: the
/// storage's ETag check would refuse one), and checkpointed at most once per interval while work completes.
/// </summary>
internal sealed class CheckpointedState<T>(IPersistentState<T> state, TimeSpan interval, Action<T>? beforeWrite = null)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _lastWrite;

    /// <summary>Writes the state now.</summary>
    public async Task WriteAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(true);
        try
        {
            beforeWrite?.Invoke(state.State);
            await state.WriteStateAsync().ConfigureAwait(true);
            _lastWrite = DateTimeOffset.UtcNow;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Clears the stored state, one write at a time with the others (a write queued behind the clear lands after it, so
    /// callers stop writing first). A clear refused for its ETag (an earlier clear's answer was lost after it landed, or a
    /// write moved the ETag) reads the stored state again: gone, it is cleared; there, the clear is tried once more with
    /// the ETag read, and a second refusal is thrown to the caller.
    /// </summary>
    public async Task ClearAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(true);
        try
        {
            try
            {
                await state.ClearStateAsync().ConfigureAwait(true);
            }
            catch (InconsistentStateException)
            {
                var held = state.State;
                await state.ReadStateAsync().ConfigureAwait(true);
                if (state.RecordExists)
                {
                    await state.ClearStateAsync().ConfigureAwait(true);
                }
                else
                {
                    state.State = held;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes the state if the interval has passed since the last write.</summary>
    public Task CheckpointAsync() => DateTimeOffset.UtcNow - _lastWrite >= interval ? WriteAsync() : Task.CompletedTask;
}
