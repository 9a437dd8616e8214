using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a job coordinator persists (grain storage <c>jobs</c>: Redis in a cluster, memory in embedded mode): the job, its
/// state and, per image, how far it got. Image embeddings are not here but in the image grains' outcome blobs, so the
/// state stays small; a restarted coordinator resumes from the first image not done.
/// </summary>
[GenerateSerializer, Alias("AnomalyClustering.JobCoordinatorState")]
public sealed class JobCoordinatorState
{
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

    /// <summary>Per image: true once its embedding step finished (successfully or not).</summary>
    [Id(5)] public bool[] ImageEmbedded { get; set; } = [];

    /// <summary>Per image: its feature-cache blob, or null (not done, or failed).</summary>
    [Id(6)] public string?[] ImageFeatures { get; set; } = [];

    /// <summary>Indices of the normal images that feed the scores (after the seeded normal limit).</summary>
    [Id(7)] public int[] SelectedNormals { get; set; } = [];

    /// <summary>Per selected normal image: true once its embedding step finished.</summary>
    [Id(8)] public bool[] NormalEmbedded { get; set; } = [];

    /// <summary>Per selected normal image: its feature-cache blob, or null.</summary>
    [Id(9)] public string?[] NormalFeatures { get; set; } = [];

    /// <summary>Images that could not be used.</summary>
    [Id(10)] public List<ImageFailure> Failures { get; set; } = [];

    /// <summary>Per image: true once its outcome blob (x_i and alpha) is written.</summary>
    [Id(11)] public bool[] ImageWeighted { get; set; } = [];

    /// <summary>Embeddings read from the feature cache.</summary>
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
}
