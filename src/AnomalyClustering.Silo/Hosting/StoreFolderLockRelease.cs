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

    /// <summary>
    /// What the server logs at start with file locking off. Warned rather than refused: operators turn locking off on
    /// purpose (file systems without flock, e.g. some NFS mounts), and one server per folder still holds when they keep to
    /// it. A CLI run says its own (EmbeddedCluster in the CLI): its runs share the lock anyway, and only a server can hurt it.
    /// </summary>
    private const string FileLockingOffWarning = "File locking is off in this process (" + StoreFolderLock.FileLockingVariable
        + " or the AppContext switch " + StoreFolderLock.FileLockingSwitch + "): the store folder's lock keeps no second server or CLI run out, and two of them on one folder would resume the same jobs and write the same files. Run one server per folder and no CLI run on it, or turn locking back on over a local file system";

    [LoggerMessage(Level = LogLevel.Warning, Message = FileLockingOffWarning)]
    private static partial void LogLockingOff(ILogger logger);
}
