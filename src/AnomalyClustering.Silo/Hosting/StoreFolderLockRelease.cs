using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Silo.Hosting;

/// <summary>
/// Releases a one-node server's lock of its store folder (<see cref="StoreFolderLock"/>) when the host stops or is disposed,
/// so that a server started again in the same process (tests, a restart in place) can take it.
/// </summary>
internal sealed class StoreFolderLockRelease(StoreFolderLock held) : IHostedService, IDisposable
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        held.Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => held.Dispose();
}
