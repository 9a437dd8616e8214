using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Silo.Hosting;

/// <summary>
/// Releases a one-node server's lock of its store folder (<see cref="StoreFolderLock"/>) when the host stops or is disposed,
/// so that a server started again in the same process (tests, a restart in place) can take it; and says at start when .NET's
/// file locking is off, for then the lock keeps no second server or CLI run out.
/// </summary>
internal sealed partial class StoreFolderLockRelease(StoreFolderLock held, ILogger<StoreFolderLockRelease> logger) : IHostedService, IDisposable
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (StoreFolderLock.FileLockingIsOff())
        {
            LogLockingOff(logger);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        held.Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => held.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = StoreFolderLock.FileLockingOffWarning)]
    private static partial void LogLockingOff(ILogger logger);
}
