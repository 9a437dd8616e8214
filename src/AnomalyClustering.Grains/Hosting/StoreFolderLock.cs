using System.Globalization;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// The lock of a local-folder store (<c>ROOT/silo-state/.lock</c>), held by an operating-system file lock for as long as
/// its holder runs and released by the system when the process ends, however it ends. A one-node server takes it
/// exclusively: two servers on one folder would both resume its jobs and write the same state and reminder files. The CLI's
/// embedded runs take it shared: several of them on one store at once are supported (each job has its own lock,
/// <c>running/JOB.lock</c>), but none while a server owns the folder, or the two would resume each other's jobs (the job
/// records under <c>job-records/</c> are the same).
/// </summary>
/// <remarks>
/// The lock file itself cannot be read while it is locked (an exclusive lock refuses every other open), so the exclusive
/// holder names itself in a file beside it (<c>.lock-holder</c>: process id, host, since when), which the refused read.
/// Neither file is ever deleted: a lock file removed while another process opens it would let two holders lock two files.
/// </remarks>
public sealed class StoreFolderLock : IDisposable
{
    private readonly FileStream _file;

    private StoreFolderLock(FileStream file) => _file = file;

    /// <summary>The lock file of the store in <paramref name="storeRoot"/>.</summary>
    public static string LockFileOf(string storeRoot) => Path.Combine(ClusterHostingOptions.StateFolderOf(storeRoot), ".lock");

    /// <summary>The file in which the exclusive holder of <paramref name="storeRoot"/>'s lock names itself.</summary>
    public static string HolderFileOf(string storeRoot) => LockFileOf(storeRoot) + "-holder";

    /// <summary>Takes the lock of <paramref name="storeRoot"/> for this process alone (a server), and names this process as its holder.</summary>
    /// <exception cref="StoreFolderInUseException">Another process (a server, or CLI runs) holds the lock.</exception>
    /// <exception cref="StoreFolderLockException">The lock file or the holder file cannot be written (permissions, a read-only or full disk).</exception>
    public static StoreFolderLock TakeExclusive(string storeRoot)
    {
        var root = Path.GetFullPath(storeRoot);
        // FileShare.None is an exclusive lock (flock LOCK_EX on Linux and macOS, a sharing mode on Windows).
        var taken = TryOpen(root, FileAccess.ReadWrite, FileShare.None)
            ?? throw Refused(root);
        var holder = HolderFileOf(root);
        try
        {
            File.WriteAllText(holder + ".tmp", string.Create(CultureInfo.InvariantCulture,
                $"pid {Environment.ProcessId} on host {Environment.MachineName}, since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z"));
            File.Move(holder + ".tmp", holder, overwrite: true);
        }
        catch (Exception e)
        {
            // Released at once: held by a stream nobody disposes, the lock would refuse every later taker until the
            // finaliser ran.
            taken.Dispose();
            if (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreFolderLockException(ClusterHostingOptions.StateFolderOf(root), holder, e);
            }
            throw;
        }
        return new StoreFolderLock(taken);
    }

    /// <summary>Takes the lock of <paramref name="storeRoot"/> beside other shared holders (a CLI run).</summary>
    /// <exception cref="StoreFolderInUseException">A server holds the lock.</exception>
    /// <exception cref="StoreFolderLockException">The lock file cannot be opened (permissions, a read-only or full disk).</exception>
    public static StoreFolderLock TakeShared(string storeRoot)
    {
        var root = Path.GetFullPath(storeRoot);
        // Read access and a share mode that lets others read and write is a shared lock (flock LOCK_SH).
        return new StoreFolderLock(TryOpen(root, FileAccess.Read, FileShare.ReadWrite) ?? throw Refused(root));
    }

    /// <summary>
    /// The lock file opened and locked as asked; null when another process's lock refuses it. Any other failure (the folder
    /// not writable, a read-only or full disk, an I/O error) is no refusal: it says so, naming the folder and the cause.
    /// </summary>
    private static FileStream? TryOpen(string root, FileAccess access, FileShare share)
    {
        var stateFolder = ClusterHostingOptions.StateFolderOf(root);
        var lockFile = LockFileOf(root);
        try
        {
            Directory.CreateDirectory(stateFolder);
            return new FileStream(lockFile, FileMode.OpenOrCreate, access, share, bufferSize: 1);
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreFolderLockException(stateFolder, lockFile, e);
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/> is another holder's lock refusing this one: on Unix .NET raises flock's EWOULDBLOCK
    /// as an <see cref="IOException"/> whose HResult is the raw errno (11 on Linux, 35 on macOS and the BSDs); on Windows it
    /// is ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION as an HRESULT.
    /// </summary>
    private static bool IsSharingViolation(IOException error) =>
        error.GetType() == typeof(IOException) && (OperatingSystem.IsWindows()
            ? error.HResult is unchecked((int)0x80070020) or unchecked((int)0x80070021)
            : error.HResult == (OperatingSystem.IsLinux() || OperatingSystem.IsAndroid() ? 11 : 35));

    /// <summary>
    /// Whether .NET's file locking is off in this process, so that the lock is taken whatever others hold and protects
    /// nothing: on Unix (not Windows, whose share modes it does not touch) .NET skips flock when the environment variable
    /// DOTNET_SYSTEM_IO_DISABLEFILELOCKING or the AppContext switch System.IO.DisableFileLocking says so.
    /// </summary>
    public static bool FileLockingIsOff() =>
        !OperatingSystem.IsWindows()
        && FileLockingIsOff(Environment.GetEnvironmentVariable(FileLockingVariable),
            AppContext.TryGetSwitch(FileLockingSwitch, out var switchedOff) ? switchedOff : null);

    /// <summary>
    /// Whether .NET reads its file locking as off from <paramref name="environmentValue"/> (DOTNET_SYSTEM_IO_DISABLEFILELOCKING,
    /// null when unset) and <paramref name="appContextSwitch"/> (System.IO.DisableFileLocking, null when unset), as the
    /// runtime does: the variable first ("1" or "true" off, "0" or "false" on, any case), then the switch, else on.
    /// </summary>
    public static bool FileLockingIsOff(string? environmentValue, bool? appContextSwitch) => environmentValue switch
    {
        "1" => true,
        "0" => false,
        _ when string.Equals(environmentValue, "true", StringComparison.OrdinalIgnoreCase) => true,
        _ when string.Equals(environmentValue, "false", StringComparison.OrdinalIgnoreCase) => false,
        _ => appContextSwitch ?? false,
    };

    /// <summary>The environment variable that turns .NET's file locking off on Unix.</summary>
    public const string FileLockingVariable = "DOTNET_SYSTEM_IO_DISABLEFILELOCKING";

    /// <summary>The AppContext switch that turns .NET's file locking off on Unix.</summary>
    public const string FileLockingSwitch = "System.IO.DisableFileLocking";

    /// <summary>
    /// The refusal, naming the holder: a server if a shared lock cannot be had either (its holder file says which process),
    /// otherwise CLI runs.
    /// </summary>
    private static StoreFolderInUseException Refused(string root)
    {
        using (var shared = TryOpen(root, FileAccess.Read, FileShare.ReadWrite))
        {
            if (shared is not null)
            {
                return new StoreFolderInUseException(root, heldByServer: false, holder: null);
            }
        }
        string? holder;
        try
        {
            holder = File.ReadAllText(HolderFileOf(root)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            holder = null;
        }
        return new StoreFolderInUseException(root, heldByServer: true, holder is { Length: > 0 } ? holder : null);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}

/// <summary>
/// A local-folder store whose lock (<see cref="StoreFolderLock"/>) another process holds: a server when this is a server or
/// a CLI run, or CLI runs when this is a server. The message names the folder and, when known, the holding process.
/// </summary>
public sealed class StoreFolderInUseException : StoreFolderException
{
    /// <summary>Creates the refusal of <paramref name="folder"/>.</summary>
    public StoreFolderInUseException(string folder, bool heldByServer, string? holder)
        : base(heldByServer
            ? $"the store folder '{folder}' is in use by another anomaly-clustering server ({holder ?? "its process is not named"}); one server per folder: stop that one, or give this one a folder of its own (AnomalyClustering:Storage:LocalRoot)."
            : $"the store folder '{folder}' is in use by anomaly-cluster CLI runs (embedded mode); a server needs the folder to itself: wait until they end, or give the server a folder of its own (AnomalyClustering:Storage:LocalRoot).")
    {
        Folder = folder;
        HeldByServer = heldByServer;
        Holder = holder;
    }

    /// <summary>The store folder.</summary>
    public string Folder { get; }

    /// <summary>Whether a server holds it (otherwise CLI runs do).</summary>
    public bool HeldByServer { get; }

    /// <summary>The holding server as it named itself (process id, host, since when), when known.</summary>
    public string? Holder { get; }
}

/// <summary>
/// A local-folder store whose lock (<see cref="StoreFolderLock"/>) cannot be taken for a reason other than another holder:
/// the folder is not writable by this user, the disk is read-only or full, or an I/O error. The message names the folder,
/// the file and the system's cause.
/// </summary>
public sealed class StoreFolderLockException : StoreFolderException
{
    /// <summary>Creates the failure to lock <paramref name="folder"/> by writing <paramref name="file"/>.</summary>
    public StoreFolderLockException(string folder, string file, Exception cause)
        : base($"the store folder's lock cannot be taken: {Path.GetFileName(file)} in '{folder}' cannot be written ({cause.Message.TrimEnd('.')}); make sure this user may write that folder and that its disk is writable and not full.", cause)
    {
        Folder = folder;
    }

    /// <summary>The folder that holds the lock file (<c>ROOT/silo-state</c>).</summary>
    public string Folder { get; }
}
