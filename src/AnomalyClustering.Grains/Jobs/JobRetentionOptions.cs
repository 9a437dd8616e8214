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

    /// <summary>False switches retention off: blobs stay until <c>DELETE /jobs/{id}</c>.</summary>
    public bool Enabled { get; set; } = true;
}
