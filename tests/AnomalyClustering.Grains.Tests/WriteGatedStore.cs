using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A blob store whose writes of the blobs <paramref name="gated"/> picks wait for the test (<see cref="Release"/>), then land
/// whatever the writer's token says by then (they were in flight): a job is held at that write for as long as a test needs,
/// with <see cref="WriteArrived"/> as the readiness signal instead of a sleep.
/// </summary>
internal sealed class WriteGatedStore(IBlobStore inner, Func<string, bool> gated) : IBlobStore
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed when the first gated write has reached the store.</summary>
    public TaskCompletionSource WriteArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets every gated write go on, now and later.</summary>
    public void Release() => _release.TrySetResult();

    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        if (gated(name))
        {
            WriteArrived.TrySetResult();
            await _release.Task;
            await inner.PutAsync(name, content, overwrite, CancellationToken.None);
            return;
        }
        await inner.PutAsync(name, content, overwrite, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

    public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
}
