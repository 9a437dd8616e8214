using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Jobs;

/// <summary>One clustered image: its id, cluster, label when known, its patch weights (alpha map) when it came from pixels, its embedding and its anomaly score.</summary>
/// <param name="Id">The image id of the dataset.</param>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Label">Ground-truth label, or null.</param>
/// <param name="PatchWeights">The M patch weights alpha (sum 1), row-major on the patch grid; null for precomputed embeddings.</param>
/// <param name="Embedding">The image embedding x_i that was clustered (D values); null in result documents written before it was recorded.</param>
/// <param name="AnomalyScore">
/// The image anomaly score (METHOD section 7b, the largest patch score; higher is more anomalous); null in the <c>average</c>
/// mode, for precomputed embeddings and in result documents written before it was recorded.
/// </param>
public sealed record ClusteredImage(string Id, int Cluster, string? Label, float[]? PatchWeights, float[]? Embedding = null, double? AnomalyScore = null)
{
    /// <summary>
    /// The distance of x_i to its cluster's centroid as the result's files recorded it, when the result was read without
    /// its embeddings (a large result read for a report); null otherwise (then it is computed from <see cref="Embedding"/>).
    /// </summary>
    public double? DistanceToCentre { get; init; }

    /// <summary>
    /// The SHA-256 of the image file (64 lowercase hex digits) as the job's image grain computed it when it read the image;
    /// reports find the image's cached thumbnail by it without reading the image. Null when unknown (precomputed
    /// embeddings, results written before it was recorded).
    /// </summary>
    public string? ContentSha256 { get; init; }
}

/// <summary>The good group of a detect-then-cluster job (<see cref="ClusteringJobOptions.DetectThenCluster"/>).</summary>
/// <param name="Images">Images at or under the result's <see cref="ClusteringResult.AnomalyThreshold"/>, all in one cluster.</param>
/// <param name="Cluster">Their cluster at the result's cut.</param>
public sealed record DetectedGoodGroup(int Images, int Cluster);

/// <summary>An image the job could not use, and why; the other images are clustered without it.</summary>
/// <param name="Id">The image id of the dataset.</param>
/// <param name="Path">The file that failed.</param>
/// <param name="Reason">A short machine-readable reason (e.g. <c>corrupt</c>, <c>unsupported-format</c>, <c>too-large</c>).</param>
/// <param name="Message">What went wrong, for a person.</param>
/// <param name="IsNormalImage">True when the image belonged to the normal set rather than to the images being clustered.</param>
public sealed record ImageError(string Id, string Path, string Reason, string Message, bool IsNormalImage = false);

/// <summary>How long one stage of the job took.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Elapsed">Wall-clock time of the stage.</param>
public sealed record StageTiming(PipelineStage Stage, TimeSpan Elapsed);

/// <summary>
/// The outcome of a clustering job: a cluster per image, the merge tree, the patch weights, the
/// metrics when labels exist, the images that could not be used, and the time of each stage.
/// </summary>
public sealed record ClusteringResult
{
    /// <summary>The options the job ran with, including the cluster count it resolved.</summary>
    public required ClusteringJobOptions Options { get; init; }

    /// <summary>The clustered images in dataset order (failed images left out).</summary>
    public required IReadOnlyList<ClusteredImage> Images { get; init; }

    /// <summary>Images that could not be decoded or embedded.</summary>
    public required IReadOnlyList<ImageError> Errors { get; init; }

    /// <summary>
    /// The full agglomerative merge tree (SciPy linkage matrix) over <see cref="Images"/> in order, or, when
    /// <see cref="LeafOfImage"/> is set (two-stage Ward), over the micro-clusters.
    /// </summary>
    public required MergeTree MergeTree { get; init; }

    /// <summary>For a two-stage tree, the leaf (micro-cluster) of each image in <see cref="Images"/> order; null when the tree's leaves are the images.</summary>
    public IReadOnlyList<int>? LeafOfImage { get; init; }

    /// <summary>The algorithm that built <see cref="MergeTree"/>.</summary>
    public ClusteringAlgorithm Algorithm { get; init; } = ClusteringAlgorithm.DistanceMatrix;

    /// <summary>Why that algorithm was used (memory against the budget, size limits); null in documents written before it was recorded.</summary>
    public string? AlgorithmReason { get; init; }

    /// <summary>The tree with its leaf mapping, for cutting at another K or threshold without a rerun.</summary>
    public ClusterTree ClusterTree => new(MergeTree, LeafOfImage?.ToArray(), Algorithm, AlgorithmReason ?? string.Empty);

    /// <summary>How K was found when the job found it (<see cref="ClusteringJobOptions.AutomaticClusterCount"/>): the criterion and its curve; null otherwise.</summary>
    public ClusterCountChoice? ClusterCountChoice { get; init; }

    /// <summary>Number of clusters after the cut.</summary>
    public int ClusterCount => Images.Count == 0 ? 0 : Images.Max(image => image.Cluster) + 1;

    /// <summary>Rows of the patch grid of <see cref="ClusteredImage.PatchWeights"/>; 0 for precomputed embeddings.</summary>
    public int PatchGridHeight { get; init; }

    /// <summary>Columns of the patch grid; 0 for precomputed embeddings.</summary>
    public int PatchGridWidth { get; init; }

    /// <summary>Dimension of the image embeddings x_i that were clustered.</summary>
    public required int EmbeddingDimension { get; init; }

    /// <summary>NMI, ARI and Hungarian F1 against the labels; null when the images had no labels.</summary>
    public ClusteringScores? Scores { get; init; }

    /// <summary>
    /// The label-free detection threshold on the image anomaly scores (semi-supervised: a quantile of the normal images'
    /// leave-one-out scores, see Core's DetectionThreshold); null when the job has none.
    /// </summary>
    public double? AnomalyThreshold { get; init; }

    /// <summary>
    /// With <see cref="ClusteringJobOptions.DetectThenCluster"/>: the images the threshold called good and their cluster;
    /// null otherwise, and when the job could not apply it (<see cref="AlgorithmReason"/> says why).
    /// </summary>
    public DetectedGoodGroup? DetectedGood { get; init; }

    /// <summary>Detection metrics (image AUROC, good vs defective) when the images have scores and labels with <c>good</c> and a defect; else null.</summary>
    public DetectionScores? Detection { get; init; }

    /// <summary>
    /// Pixel AUROC and PRO of the patch-score maps against the dataset's ground-truth masks, when it has masks and the job
    /// patch scores and <see cref="Detection"/>; else null. Set by whoever has the masks (the CLI), not by the job.
    /// </summary>
    public PixelDetectionScores? PixelDetection { get; init; }

    /// <summary>The distinct labels in ordinal order (the class order of <see cref="Scores"/>); empty without labels.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Wall-clock time of each stage, in order.</summary>
    public required IReadOnlyList<StageTiming> Timings { get; init; }

    /// <summary>Names people gave to clusters (shown in reports, kept in result.json); empty until someone names one.</summary>
    public ClusterNames Names { get; init; } = ClusterNames.Empty;

    /// <summary>
    /// What the job did differently from what was asked (<see cref="ResultWarnings"/>), for people and, by code, for tools;
    /// empty when nothing, and in documents written before warnings were recorded.
    /// </summary>
    public IReadOnlyList<ResultWarning> Warnings { get; init; } = [];
}
