using System.Collections.Concurrent;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A blob store whose writes under a held prefix wait until the test fails them: a job whose image outcomes are held stays
/// in its image stage with no image done (so its coordinator has nothing to write), for as long as the test needs; once
/// failed, its writes throw an <see cref="IOException"/> (a store outage: the job pauses, no image is lost).
/// </summary>
public sealed class HeldWritesBlobStore(IBlobStore inner) : IBlobStore
{
    private readonly ConcurrentDictionary<string, (TaskCompletionSource Reached, TaskCompletionSource Gate)> _held = new(StringComparer.Ordinal);

    /// <summary>Holds every later write under <paramref name="prefix"/>; the task completes once one waits.</summary>
    public Task HoldAsync(string prefix) => _held.GetOrAdd(prefix, _ => (NewSignal(), NewSignal())).Reached.Task;

    /// <summary>Fails the writes under <paramref name="prefix"/> that wait, and every later one.</summary>
    public void Fail(string prefix) => _held[prefix].Gate.TrySetException(new IOException($"the test failed the writes under '{prefix}'"));

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        foreach (var (prefix, (reached, gate)) in _held)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                reached.TrySetResult();
                await gate.Task.WaitAsync(cancellationToken);
            }
        }
        await inner.PutAsync(name, content, overwrite, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
