namespace AnomalyClustering.Abstractions.Jobs;

/// <summary>Where a job is in its life.</summary>
public enum JobState
{
    /// <summary>No job with this id was ever submitted.</summary>
    Unknown,

    /// <summary>Accepted, not started.</summary>
    Queued,

    /// <summary>Image grains are decoding and embedding (or reading the feature cache).</summary>
    Embedding,

    /// <summary>Image grains are scoring patches and forming the image embeddings.</summary>
    Weighting,

    /// <summary>The coordinator is computing distances, the merge tree and the cut.</summary>
    Clustering,

    /// <summary>Finished; the result blob is written.</summary>
    Completed,

    /// <summary>Stopped by an error that concerns the whole job (see <see cref="JobStatus.Error"/>).</summary>
    Failed,

    /// <summary>Stopped at a user's request.</summary>
    Cancelled,
}

/// <summary>Questions about a <see cref="JobState"/>.</summary>
public static class JobStateExtensions
{
    /// <summary>True for the states a job never leaves: completed, failed, cancelled.</summary>
    public static bool IsFinished(this JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;

    /// <summary>True while the job runs (queued to clustering): submitted and not finished.</summary>
    public static bool IsActive(this JobState state) => state != JobState.Unknown && !state.IsFinished();
}

/// <summary>A job's state and progress counts, as the API and the CLI show them.</summary>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobStatus")]
public sealed record JobStatus
{
    /// <summary>The job id.</summary>
    [Id(0)] public required string JobId { get; init; }

    /// <summary>The state.</summary>
    [Id(1)] public JobState State { get; init; }

    /// <summary>Images to cluster.</summary>
    [Id(2)] public int TotalImages { get; init; }

    /// <summary>Normal images that feed the scores (after the normal limit).</summary>
    [Id(3)] public int TotalNormalImages { get; init; }

    /// <summary>Images (and normal images) embedded or read from the feature cache so far.</summary>
    [Id(4)] public int EmbeddedImages { get; init; }

    /// <summary>
    /// While the job is <see cref="JobState.Embedding"/>: how many images that stage embeds (the normal bank in
    /// semi-supervised mode; the reference sample, R + 1 images or every image for exact scores, otherwise), the total of
    /// <see cref="EmbeddedImages"/> then. 0 before the stage knows it and after it.
    /// </summary>
    [Id(19)] public int ReferenceImagesToEmbed { get; init; }

    /// <summary>Of <see cref="EmbeddedImages"/>, those read from the feature cache.</summary>
    [Id(5)] public int CacheHits { get; init; }

    /// <summary>Images whose patch weights and embedding are done.</summary>
    [Id(6)] public int WeightedImages { get; init; }

    /// <summary>Images that could not be used (see the job's errors).</summary>
    [Id(7)] public int FailedImages { get; init; }

    /// <summary>The job-level error of a failed job.</summary>
    [Id(8)] public string? Error { get; init; }

    /// <summary>When the job was submitted.</summary>
    [Id(9)] public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the state or a count last changed.</summary>
    [Id(10)] public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The blob holding the result document once the job completed; null before.</summary>
    [Id(11)] public string? ResultBlob { get; init; }

    /// <summary>Number of clusters of a completed job.</summary>
    [Id(12)] public int? ClusterCount { get; init; }

    /// <summary>Where the images came from.</summary>
    [Id(13)] public string Source { get; init; } = "";

    /// <summary>The tenant the job belongs to (<see cref="JobSpecification.Tenant"/>); null: no tenant, visible to every caller.</summary>
    [Id(14)] public string? Tenant { get; init; }

    /// <summary>
    /// Something the caller should know about the job's history, or null: e.g. that it was resumed from its manifest after
    /// the state store lost its state (its progress then started again).
    /// </summary>
    [Id(15)] public string? Note { get; init; }

    /// <summary>
    /// When a deletion of the job started, while it runs: the job is going away, and its id takes no new job until the
    /// deletion ends. Null otherwise.
    /// </summary>
    [Id(16)] public DateTimeOffset? DeletionStartedAt { get; init; }

    /// <summary>While the job is being deleted: how many of its blobs the deletion has deleted so far (since its coordinator's activation).</summary>
    [Id(17)] public long DeletedBlobs { get; init; }

    /// <summary>
    /// While the job is being deleted: why the deletion's last attempt failed (the store away, say), which it tries again
    /// after a pause. Null while it goes well.
    /// </summary>
    [Id(18)] public string? DeletionError { get; init; }

    /// <summary>
    /// Of a completed job: what it did differently from what was asked (a label class without a usable image that took a
    /// cluster away, a patch grid too small for the method), as its result records them. Empty otherwise.
    /// </summary>
    [Id(20)] public IReadOnlyList<JobWarning> Warnings { get; init; } = [];

    /// <summary>
    /// True when a caller of tenant <paramref name="tenant"/> (null: a caller with no tenant) may see the job: the job has no
    /// tenant, or the same one (ordinal). The one rule of tenancy, used by the API and the job registry.
    /// </summary>
    public bool IsVisibleTo(string? tenant) => Tenant is null || string.Equals(Tenant, tenant, StringComparison.Ordinal);

    /// <summary>True when the job will not change any more.</summary>
    public bool IsFinished => State.IsFinished();

    /// <summary>Throws while the job is being deleted: its id takes no new job, retry or name until the deletion ends.</summary>
    /// <exception cref="JobBeingDeletedException">The job is being deleted.</exception>
    public void ThrowIfBeingDeleted()
    {
        if (DeletionStartedAt is { } started)
        {
            throw new JobBeingDeletedException(JobId, started);
        }
    }
}

/// <summary>An image a job could not use, and why; the job goes on without it.</summary>
/// <param name="Id">The image id.</param>
/// <param name="BlobName">The blob that failed.</param>
/// <param name="Reason">Short machine-readable reason (<c>corrupt</c>, <c>too-large</c>, <c>missing</c>, ...).</param>
/// <param name="Message">What went wrong, for a person.</param>
/// <param name="IsNormalImage">True for a normal (defect-free) image of semi-supervised mode.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.ImageFailure")]
public sealed record ImageFailure(
    [property: Id(0)] string Id,
    [property: Id(1)] string BlobName,
    [property: Id(2)] string Reason,
    [property: Id(3)] string Message,
    [property: Id(4)] bool IsNormalImage = false);

/// <summary>Something a completed job did differently from what was asked, as its result's <c>warnings</c> record it.</summary>
/// <param name="Code">Stable and machine-readable: <c>class-without-images</c>, <c>small-patch-grid</c>, ...</param>
/// <param name="Message">What happened and what to do about it, for a person.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobWarning")]
public sealed record JobWarning(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message);
