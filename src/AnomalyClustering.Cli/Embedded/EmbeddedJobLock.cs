namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// A job's lock file in the store folder, held (opened exclusively) while this process runs the job: two processes on one
/// store must not run the same job id, since both would write its state. The operating system releases the lock when the
/// process ends, however it ends, so a killed run never leaves the job locked.
/// </summary>
internal sealed class EmbeddedJobLock : IDisposable
{
    private readonly FileStream _file;

    private EmbeddedJobLock(FileStream file) => _file = file;

    /// <summary>Takes the lock of <paramref name="jobId"/> in <paramref name="storeFolder"/>; null when another process holds it.</summary>
    public static EmbeddedJobLock? TryTake(string storeFolder, string jobId)
    {
        var folder = Path.Combine(Path.GetFullPath(storeFolder), "running");
        Directory.CreateDirectory(folder);
        try
        {
            // FileShare.None is an exclusive lock on the file (flock on Linux and macOS), released with the process.
            return new EmbeddedJobLock(new FileStream(
                Path.Combine(folder, jobId + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
