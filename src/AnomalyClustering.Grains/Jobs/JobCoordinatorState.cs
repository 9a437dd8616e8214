using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a job coordinator persists (grain storage <c>jobs</c>: Redis in a cluster, memory in embedded mode): the job (a
/// manifest reference, not its images), its state, what every image is weighed against, and which shards are done. Its
/// size does not grow with the images: per-image progress lives in the shard grains and their outcome blobs (the shard
/// bitmap here is one bit per 4,096 images, 31 bytes at a million). A restarted coordinator resumes from it.
/// </summary>
// Ids 5, 6 and 11 (per-image flags and feature blobs) are retired: per-image progress belongs to the shards.
[GenerateSerializer, Alias("AnomalyClustering.JobCoordinatorState")]
public sealed class JobCoordinatorState
{
    /// <summary>The coordinator's name for this state in its grain storage (what a reader of the stored state asks for).</summary>
    public const string StateName = "job";

    /// <summary>The coordinator grain's type (Orleans' default for ClusteringJobGrain), with the job id its <c>GrainId</c>.</summary>
    public const string GrainTypeName = "clusteringjob";

    /// <summary>The job as submitted; null until then.</summary>
    [Id(0)] public JobSpecification? Specification { get; set; }

    /// <summary>The job's state.</summary>
    [Id(1)] public JobState State { get; set; }

    /// <summary>When the job was submitted.</summary>
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the state last changed.</summary>
    [Id(3)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The job-level error of a failed job.</summary>
    [Id(4)] public string? Error { get; set; }

    /// <summary>Indices of the normal images that feed the scores (after the seeded normal limit).</summary>
    [Id(7)] public int[] SelectedNormals { get; set; } = [];

    /// <summary>Per selected normal image: true once its embedding step finished.</summary>
    [Id(8)] public bool[] NormalEmbedded { get; set; } = [];

    /// <summary>Per selected normal image: its feature-cache blob, or null.</summary>
    [Id(9)] public string?[] NormalFeatures { get; set; } = [];

    /// <summary>Normal images that could not be used (the images' own failures are kept by their shards).</summary>
    [Id(10)] public List<ImageFailure> Failures { get; set; } = [];

    /// <summary>Patch bags read from the feature cache, in the reference phase and in the shards that are done.</summary>
    [Id(12)] public int CacheHits { get; set; }

    /// <summary>The result document's blob once completed.</summary>
    [Id(13)] public string? ResultBlob { get; set; }

    /// <summary>Number of clusters once completed.</summary>
    [Id(14)] public int? ClusterCount { get; set; }

    /// <summary>Seconds spent per stage (by stage name), summed over resumptions.</summary>
    [Id(15)] public Dictionary<string, double> StageSeconds { get; set; } = [];

    /// <summary>Rows of the patch grid (of the alpha maps).</summary>
    [Id(16)] public int GridHeight { get; set; }

    /// <summary>Columns of the patch grid.</summary>
    [Id(17)] public int GridWidth { get; set; }

    /// <summary>True once the references (or the normal bank) are fixed and the shards may start.</summary>
    [Id(18)] public bool ReferencesFixed { get; set; }

    /// <summary>Unsupervised: the usable reference pool's image indices, in drawing order.</summary>
    [Id(19)] public int[] ReferenceImages { get; set; } = [];

    /// <summary>The patch bags of <see cref="ReferenceImages"/>.</summary>
    [Id(20)] public string[] ReferenceFeatures { get; set; } = [];

    /// <summary>The SHA-256 of each of <see cref="ReferenceImages"/>' files, as their embedding recorded it (empty in states stored before it was).</summary>
    [Id(27)] public string?[] ReferenceContentHashes { get; set; } = [];

    /// <summary>R: references each image is compared with.</summary>
    [Id(21)] public int ReferencesPerImage { get; set; }

    /// <summary>Whether the shards keep every image's patch bag in the feature cache (decided when the job starts).</summary>
    [Id(22)] public bool CacheFeatures { get; set; }

    /// <summary>One bit per shard: set once the shard's embeddings blob is written.</summary>
    [Id(23)] public ulong[] ShardsDone { get; set; } = [];

    /// <summary>Images processed by the shards that are done.</summary>
    [Id(24)] public int ProcessedInDoneShards { get; set; }

    /// <summary>Of those, images that could not be used.</summary>
    [Id(25)] public int FailedInDoneShards { get; set; }

    /// <summary>
    /// The last progress of each shard that runs now, as of the last checkpoint (at most
    /// <see cref="CoordinatorOptions.MaxActiveShards"/> entries): a coordinator reactivated mid-job shows it at once.
    /// </summary>
    [Id(26)] public Dictionary<int, ShardProgress> ActiveShards { get; set; } = [];

    /// <summary>
    /// Images embedded and weighed as this state records them: those of the finished shards and the running shards' last
    /// progress, less the images that could not be used. The job's status reports it, and a resumed job starts from it.
    /// </summary>
    public int WeightedImages() =>
        ProcessedInDoneShards - FailedInDoneShards + ActiveShards.Values.Sum(progress => progress.Processed - progress.Failed);

    /// <summary>Why the job was started again without being asked (its state lost by the state store), or null.</summary>
    [Id(28)] public string? Note { get; set; }

    /// <summary>When the job's deletion started (<see cref="IClusteringJobGrain.Delete"/>), or null: a job being deleted never resumes (its deletion does) and refuses new submissions.</summary>
    [Id(29)] public DateTimeOffset? DeletionStartedAt { get; set; }

    /// <summary>The result's warnings once completed (<see cref="JobStatus.Warnings"/>).</summary>
    [Id(30)] public List<JobWarning> Warnings { get; set; } = [];

    /// <summary>True when shard <paramref name="shard"/> is done.</summary>
    public bool IsShardDone(int shard) => ShardsDone.Length > 0 && (ShardsDone[shard >> 6] & (1UL << (shard & 63))) != 0;

    /// <summary>Marks shard <paramref name="shard"/> done.</summary>
    public void MarkShardDone(int shard) => ShardsDone[shard >> 6] |= 1UL << (shard & 63);
}
