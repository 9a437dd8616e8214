namespace AnomalyClustering.Grains.Jobs;

/// <summary>How long finished jobs keep their blobs (configuration section <c>AnomalyClustering:Retention</c>).</summary>
public sealed class JobRetentionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Retention";

    /// <summary>
    /// A finished job (completed, failed or cancelled) whose last state change is older than this is deleted with its
    /// uploaded images, outcomes and result, as <c>DELETE /jobs/{id}</c> would. Running jobs are never deleted.
    /// </summary>
    public TimeSpan FinishedJobRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often each coordinator silo looks for expired jobs (the first pass comes one interval after start).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The most jobs one pass deletes, so that a backlog (retention just switched on, or shortened) is worked off in bounded
    /// steps instead of one pass that holds the store and the registry for hours.
    /// </summary>
    public int MaxJobsPerSweep { get; set; } = 100;

    /// <summary>
    /// Feature-cache entries (patch bags, <c>features/v1/</c>, about 800 KB each) written longer ago than this are deleted by
    /// the same passes; null (the default) keeps them until removed by hand. They are shared by every job over the same images,
    /// so job deletion never removes them. Set it longer than any job runs and than any line made from a job is used: a job's
    /// reference (or normal) bags are entries too, which its shards and its lines read.
    /// </summary>
    public TimeSpan? FeatureCacheRetention { get; set; }

    /// <summary>The most feature-cache entries one pass deletes (a backlog goes in steps).</summary>
    public int MaxFeatureCacheEntriesPerSweep { get; set; } = 10_000;

    /// <summary>
    /// How long after a job's deletion its outcome blobs are swept once more: an image call still running when the deletion
    /// stopped the job (past <c>ImageCallWatchdog.StopGrace</c>) may write its outcome afterwards. Longer than any image
    /// call takes. This second sweep runs even with retention off: it completes a deletion someone asked for.
    /// </summary>
    public TimeSpan DeletedJobRecheckDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>False switches retention off: blobs stay until <c>DELETE /jobs/{id}</c>.</summary>
    public bool Enabled { get; set; } = true;
}
