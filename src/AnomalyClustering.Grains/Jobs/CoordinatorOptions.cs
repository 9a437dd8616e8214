namespace AnomalyClustering.Grains.Jobs;

/// <summary>Settings of job coordinators (configuration section <c>AnomalyClustering:Coordinator</c>).</summary>
public sealed class CoordinatorOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Coordinator";

    /// <summary>
    /// Image grain calls a job keeps in flight. Enough to fill every worker's batches (workers x batch size); more only
    /// queues work on the workers and delays the coordinator's checkpoints.
    /// </summary>
    public int MaxInFlightImages { get; set; } = 32;

    /// <summary>How often progress is persisted while images complete.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Finished jobs the job registry lists (the newest); older ones leave the list but keep their state and results, so
    /// <c>GET /jobs/{id}</c> still answers. Running jobs are always listed.
    /// </summary>
    public int ListedFinishedJobs { get; set; } = 1_000;

    /// <summary>
    /// The most working memory a job's clustering may use (bytes; 2 GiB, half of the coordinator pod's 4 GiB, by default):
    /// it decides between the distance matrix, linear-memory Ward and two-stage Ward, and how many images a job may have.
    /// A server setting: clients cannot raise it. The embedded CLI sets it from <c>--memory-budget</c>.
    /// </summary>
    public long ClusteringMemoryBudgetBytes { get; set; } = Core.Clustering.ClusteringAlgorithmChoice.DefaultMemoryBudgetBytes;
}
