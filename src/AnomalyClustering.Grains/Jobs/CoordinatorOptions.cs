using System.Globalization;
using AnomalyClustering.Grains.Hosting;

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

    /// <summary>
    /// Shards of a job that run at once (each a chunk of the manifest, 4,096 images by default). Two keep the workers busy
    /// while one shard finishes its last images; the job's <see cref="MaxInFlightImages"/> is shared between them.
    /// </summary>
    public int MaxActiveShards { get; set; } = 2;

    /// <summary>How often the coordinator asks its running shards for their progress (and resumes any that stopped).</summary>
    public TimeSpan ShardPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Jobs with at most this many images keep every image's patch bag in the feature cache unless the job says otherwise
    /// (<c>cacheFeatures</c>): a re-run skips the backbone. Larger jobs store only their reference or normal images' bags,
    /// about 800 KB per image saved.
    /// </summary>
    public int FeatureCacheUpToImages { get; set; } = 2_000;

    /// <summary>
    /// Jobs with at most this many usable images carry every image's alpha map in the result document (the report's heat
    /// maps); above it the maps stay in the per-image outcome blobs, which the API serves one at a time.
    /// </summary>
    public int AlphaMapsInResultUpTo { get; set; } = 20_000;

    /// <summary>
    /// How long an image call may wait while no other image of its shard (or reference stage) finishes before it is sent
    /// again (<see cref="ImageCallWatchdog"/>): a request lost while the cluster changes would otherwise hold the run for
    /// the image calls' ten-minute response timeout. Raise it only if one batch of a worker's backbone takes longer.
    /// </summary>
    public TimeSpan ImageCallStallTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// The longest a production line's decision waits in the buffer of the line's decision log before it is written as a
    /// Parquet part (500 waiting decisions are written at once). A flush writes one part per hour it holds, so this bounds
    /// the parts a quiet line adds per hour (120 at 30 s); readers of the log see buffered decisions either way.
    /// </summary>
    public TimeSpan DecisionLogFlushInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long after an hour's end the line's decision log waits before merging that hour's parts into one compacted part
    /// (docs/OPERATIONS.md, "A line's decision log"). Well beyond the flush interval and a silo's clock skew, so that no
    /// decision of the hour is still on its way; an hour the log still buffers is never compacted, whatever this says.
    /// </summary>
    public TimeSpan DecisionLogCompactionGrace { get; set; } = TimeSpan.FromHours(1);

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

    /// <summary>
    /// The two-stage clustering's k-means assignment step: <c>Auto</c> (an ONNX graph on the GPU when this silo's backbones
    /// run on CUDA or TensorRT, the SIMD kernel otherwise), <c>Cpu</c>, or <c>Onnx</c> (the graph on any provider).
    /// </summary>
    public CentreAssignmentKernel CentreAssignmentKernel { get; set; } = CentreAssignmentKernel.Auto;

    /// <summary>
    /// Refuses settings the server cannot run with, at start rather than once a line is used: a flush interval of zero or
    /// less (the log's timer would fire without pause and keep a core busy) and a negative compaction grace (hours still
    /// being written would count as closed).
    /// </summary>
    /// <exception cref="ServerSettingException">A setting out of range; the message names it.</exception>
    public void Validate()
    {
        var defaults = new CoordinatorOptions();
        if (DecisionLogFlushInterval <= TimeSpan.Zero)
        {
            throw Refused(nameof(DecisionLogFlushInterval), DecisionLogFlushInterval, "more than zero", defaults.DecisionLogFlushInterval);
        }
        if (DecisionLogCompactionGrace < TimeSpan.Zero)
        {
            throw Refused(nameof(DecisionLogCompactionGrace), DecisionLogCompactionGrace, "zero or more", defaults.DecisionLogCompactionGrace);
        }
    }

    private static ServerSettingException Refused(string name, TimeSpan value, string range, TimeSpan fallback)
    {
        var key = $"{Section}:{name}";
        return new ServerSettingException(key, string.Create(CultureInfo.InvariantCulture,
            $"{key} is {value:c}; it must be {range} (a time span such as {fallback:c}, the default), or be left out."));
    }
}
