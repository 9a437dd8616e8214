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
    /// The clustering algorithm, when the caller forces one: <c>distance-matrix</c>, <c>linear-memory-ward</c>,
    /// <c>two-stage-ward</c> or <c>refined-two-stage-ward</c>; null lets the coordinator choose within its memory budget (a server setting, not a job option).
    /// </summary>
    [Id(16)] public string? Algorithm { get; init; }

    /// <summary>
    /// Whether every image's patch bag (about 800 KB with the defaults) is kept in the feature cache, so that a later job
    /// over the same images skips the backbone: true or false as asked; null lets the coordinator decide (on for jobs up to
    /// its <c>FeatureCacheUpToImages</c>). Reference and normal images are always stored: every image is weighed against them.
    /// </summary>
    [Id(17)] public bool? CacheFeatures { get; init; }

    /// <summary>Semi-supervised: keep this fraction of the normal patches, PatchCore's greedy coreset seeded by the job seed; 0 keeps all.</summary>
    [Id(18)] public double Coreset { get; init; }

    /// <summary>
    /// Semi-supervised: images at or under the job's label-free detection threshold form one cluster and the rest are
    /// clustered into K - 1 (detect, then cluster); off by default.
    /// </summary>
    [Id(19)] public bool DetectThenCluster { get; init; }

    /// <summary>The patch size k: every position aggregates its k x k neighbourhood (odd; 3 as in the reference).</summary>
    [Id(20)] public int PatchSize { get; init; } = 3;
}

/// <summary>
/// Where a job's image list is: a manifest in the blob store, written by the submitter before it submits, in chunks of
/// <see cref="ChunkSize"/> images (one shard grain per chunk). A submission carries this reference, never the list, so that
/// its message and the coordinator's state stay the same size for 500 images and for a million.
/// </summary>
/// <param name="Prefix">The blob prefix of the manifest's chunks (ends with '/').</param>
/// <param name="ImageCount">Images to cluster, in output order.</param>
/// <param name="NormalImageCount">Normal (defect-free) images of semi-supervised mode, listed after the images.</param>
/// <param name="ChunkSize">Images per chunk; the last chunk of images and the normal chunks may hold fewer.</param>
/// <param name="ClassNames">The distinct ground-truth labels, sorted ordinally; empty when the images carry no labels.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobManifestReference")]
public sealed record JobManifestReference(
    [property: Id(0)] string Prefix,
    [property: Id(1)] int ImageCount,
    [property: Id(2)] int NormalImageCount,
    [property: Id(3)] int ChunkSize,
    [property: Id(4)] IReadOnlyList<string> ClassNames)
{
    /// <summary>Chunks of images to cluster (shards of the job).</summary>
    public int ImageChunkCount => (ImageCount + ChunkSize - 1) / ChunkSize;

    /// <summary>True when every image carries a label.</summary>
    public bool HasLabels => ClassNames.Count > 0;
}

/// <summary>A clustering job as submitted: where its images are listed, the options and the backbone.</summary>
/// <param name="Manifest">The job's image list in the blob store.</param>
/// <param name="Options">The clustering options.</param>
/// <param name="BackboneDescriptionJson">
/// The backbone description (the JSON of <c>BackboneDescription</c>); its model path must be readable on every
/// gpu-worker silo (a mounted file, or the built-in backbone).
/// </param>
/// <param name="Source">Where the images came from, for people (a blob prefix, an upload, a folder).</param>
// Ids 0 and 1 (the image lists themselves) are retired: the lists live in the manifest.
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobSpecification")]
public sealed record JobSpecification(
    [property: Id(6)] JobManifestReference Manifest,
    [property: Id(2)] JobOptions Options,
    [property: Id(3)] string BackboneDescriptionJson,
    [property: Id(4)] string Source = "")
{
    /// <summary>
    /// The tenant of the caller who submitted the job (the API's tenant claim); null: no tenant (anonymous development
    /// clusters, the embedded CLI), a job every caller may see.
    /// </summary>
    [Id(5)] public string? Tenant { get; init; }
}

/// <summary>
/// What an image outside a job must be processed with to be weighed exactly as the job's images were: the job's options and
/// backbone, its unsupervised reference pool, or its semi-supervised normal bank (feature-cache blobs, kept after the job).
/// </summary>
/// <param name="Options">The job's options.</param>
/// <param name="BackboneDescriptionJson">The job's backbone description.</param>
/// <param name="ReferenceImages">Unsupervised: the reference pool's image indices, in drawing order.</param>
/// <param name="ReferenceFeatureBlobs">The patch bags of <paramref name="ReferenceImages"/>.</param>
/// <param name="ReferencesPerImage">R: references each image is compared with.</param>
/// <param name="NormalFeatureBlobs">Semi-supervised: the usable normal images' patch bags, in the job's order.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.JobScoringBasis")]
public sealed record JobScoringBasis(
    [property: Id(0)] JobOptions Options,
    [property: Id(1)] string BackboneDescriptionJson,
    [property: Id(2)] IReadOnlyList<int> ReferenceImages,
    [property: Id(3)] IReadOnlyList<string> ReferenceFeatureBlobs,
    [property: Id(4)] int ReferencesPerImage,
    [property: Id(5)] IReadOnlyList<string> NormalFeatureBlobs);
