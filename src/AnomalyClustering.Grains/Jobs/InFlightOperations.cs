namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Counts the operations in flight on one grain activation and lets a caller wait until none is left. Used on the
/// activation's own scheduler (one turn at a time), so the count needs no lock.
/// </summary>
internal sealed class InFlightOperations
{
    private int _count;
    private TaskCompletionSource? _settled;

    /// <summary>Runs <paramref name="operation"/> counted as in flight until it ends, whichever way.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> operation)
    {
        _count++;
        try
        {
            return await operation().ConfigureAwait(true);
        }
        finally
        {
            if (--_count == 0)
            {
                _settled?.TrySetResult();
                _settled = null;
            }
        }
    }

    /// <summary>Completes when no operation is in flight (at once when none is).</summary>
    public Task SettledAsync() => _count == 0
        ? Task.CompletedTask
        : (_settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}
