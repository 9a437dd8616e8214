using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// A job an embedded silo is about to run (<see cref="EmbeddedCluster.PrepareAsync"/>): its id, the status it had when it
/// was found kept in the store by a killed run (null for a new job), and the lock that makes it this process's job.
/// </summary>
internal sealed class EmbeddedJob(string id, JobStatus? resumed, EmbeddedJobLock? jobLock, bool resumable) : IDisposable
{
    /// <summary>The job id: derived from the images and options (<see cref="EmbeddedJobIdentity"/>), or unique when another process runs that job.</summary>
    public string Id { get; } = id;

    /// <summary>The status of the kept job this run resumes; null when the job starts afresh.</summary>
    public JobStatus? Resumed { get; } = resumed;

    /// <summary>Whether the same command finds this job again (its id comes from the images and options): then a stopped run keeps it.</summary>
    public bool Resumable { get; } = resumable;

    /// <inheritdoc />
    public void Dispose() => jobLock?.Dispose();
}
