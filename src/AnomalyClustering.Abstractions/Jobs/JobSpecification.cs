namespace AnomalyClustering.Abstractions.Jobs;

/// <summary>One image of a job: its id in the outputs, the blob that holds it, and its ground-truth label when known.</summary>
/// <param name="Id">Identifies the image in results (e.g. its path relative to the dataset root).</param>
/// <param name="BlobName">The blob with the encoded image, in the cluster's blob store.</param>
/// <param name="Label">The ground-truth class, or null.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobImage")]
public sealed record JobImage(
    [property: Id(0)] string Id,
    [property: Id(1)] string BlobName,
    [property: Id(2)] string? Label = null);

/// <summary>
/// Everything that decides a job's result besides its images, as sent over the wire (HTTP JSON and grain
/// messages). Names and defaults are those of the CLI and of <c>ClusteringJobOptions</c>; the grains map and validate them.
/// </summary>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobOptions")]
public sealed record JobOptions
{
    /// <summary><c>unsupervised</c> (default), <c>semi-supervised</c> or <c>average</c>.</summary>
    [Id(0)] public string Mode { get; init; } = "unsupervised";

    /// <summary>Softmax temperature tau of the patch weights.</summary>
    [Id(1)] public double Tau { get; init; } = 0.3;

    /// <summary>Number of clusters K; null with no distance threshold means the number of label classes.</summary>
    [Id(2)] public int? Clusters { get; init; }

    /// <summary>Cut the merge tree at this height instead of at K clusters.</summary>
    [Id(3)] public double? DistanceThreshold { get; init; }

    /// <summary><c>ward</c> (default), <c>average</c>, <c>complete</c> or <c>single</c>.</summary>
    [Id(4)] public string Linkage { get; init; } = "ward";

    /// <summary>Reference images R of unsupervised scores; 0 compares with every other image (exact).</summary>
    [Id(5)] public int Refs { get; init; } = 16;

    /// <summary>At most this many normal images feed semi-supervised scores (a seeded subset); 0 uses all.</summary>
    [Id(6)] public int NormalLimit { get; init; } = 64;

    /// <summary>Seed of every random choice of the job.</summary>
    [Id(7)] public int Seed { get; init; }

    /// <summary>Per-layer dimension P after the first adaptive pooling.</summary>
    [Id(8)] public int PretrainDimension { get; init; } = 1024;

    /// <summary>Patch embedding dimension T.</summary>
    [Id(9)] public int TargetDimension { get; init; } = 256;

    /// <summary>Per-image LayerNorm of every feature map before aggregation.</summary>
    [Id(10)] public bool LayerNorm { get; init; } = true;

    /// <summary>Images wider or taller than this many pixels are refused per image.</summary>
    [Id(11)] public int MaxImageDimension { get; init; } = 8192;

    /// <summary>Find K from the merge tree (the API also takes <c>"clusters": "auto"</c>); without labels, K and a threshold K is found anyway.</summary>
    [Id(12)] public bool AutomaticClusters { get; init; }

    /// <summary>How K is found: <c>silhouette</c> (default), <c>calinski-harabasz</c> or <c>height-gap</c>.</summary>
    [Id(13)] public string ClusterCountCriterion { get; init; } = "silhouette";

    /// <summary>The smallest K an automatic search tries.</summary>
    [Id(14)] public int MinClusters { get; init; } = 2;

    /// <summary>The largest K an automatic search tries.</summary>
    [Id(15)] public int MaxClusters { get; init; } = 20;

    /// <summary>
    /// The clustering algorithm, when the caller forces one: <c>distance-matrix</c>, <c>linear-memory-ward</c> or
    /// <c>two-stage-ward</c>; null lets the coordinator choose within its memory budget (a server setting, not a job option).
    /// </summary>
    [Id(16)] public string? Algorithm { get; init; }
}

/// <summary>A clustering job as submitted: the images, the normal images of semi-supervised mode, the options and the backbone.</summary>
/// <param name="Images">The images to cluster, in output order; ids unique; all labelled or none.</param>
/// <param name="NormalImages">Defect-free images for semi-supervised mode; may be empty.</param>
/// <param name="Options">The clustering options.</param>
/// <param name="BackboneDescriptionJson">
/// The backbone description (the JSON of <c>BackboneDescription</c>); its model path must be readable on every
/// gpu-worker silo (a mounted file, or the built-in backbone).
/// </param>
/// <param name="Source">Where the images came from, for people (a blob prefix, an upload, a folder).</param>
/// <remarks><see cref="Tenant"/> is an optional field added later: specifications persisted before it read as no tenant.</remarks>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobSpecification")]
public sealed record JobSpecification(
    [property: Id(0)] IReadOnlyList<JobImage> Images,
    [property: Id(1)] IReadOnlyList<JobImage> NormalImages,
    [property: Id(2)] JobOptions Options,
    [property: Id(3)] string BackboneDescriptionJson,
    [property: Id(4)] string Source = "")
{
    /// <summary>
    /// The tenant of the caller who submitted the job (the API's tenant claim); null: no tenant (anonymous development
    /// clusters, the embedded CLI, jobs submitted before tenancy), a job every caller may see.
    /// </summary>
    [Id(5)] public string? Tenant { get; init; }
}
