using System.Diagnostics;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using static System.FormattableString;

namespace AnomalyClustering.Jobs;

/// <summary>
/// The clustering half of a job (METHOD sections 3-5): Euclidean distances between image embeddings,
/// agglomerative clustering, the cut at K clusters or at a distance threshold, and NMI / ARI / F1
/// against the labels when there are any. Used for embeddings computed here and elsewhere.
/// </summary>
/// <remarks>
/// The distance matrix (O(N^2 D) time, O(N^2) memory) while it fits the memory budget; then exact Ward in O(N D) memory
/// (O(N^2 D) time) up to 100,000 images; then two-stage Ward (k-means micro-clusters, Ward above them), refined by exact
/// Ward inside its subtrees of at most 20,000 images up to 200,000 images.
/// </remarks>
public static class EmbeddingClustering
{
    /// <summary>
    /// Clusters N image embeddings of dimension D (row-major). K defaults to the number of distinct
    /// labels when neither K nor a distance threshold is set, and is found from the merge tree without labels
    /// (<see cref="ClusterCountSelector"/>).
    /// </summary>
    /// <remarks><paramref name="centreAssignment"/>: the two-stage methods' k-means assignment step (null: the SIMD kernel); a GPU's graph where one is at hand.</remarks>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 images, K larger than N, no way to cut without labels, mismatched lengths or non-finite values.</exception>
    public static ClusteringResult Run(
        ReadOnlySpan<float> embeddings, int count, int dimension, IReadOnlyList<string> ids, IReadOnlyList<string>? labels, ClusteringJobOptions options,
        IProgress<PipelineProgress>? progress = null, ICentreAssignment? centreAssignment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Guard.Finite(embeddings, "embeddings");
        var clock = Stopwatch.StartNew();
        var result = Run(embeddings, count, dimension, ids, labels, options, patchWeights: null, progress, centreAssignment: centreAssignment);
        return result with { Timings = [new StageTiming(PipelineStage.Cluster, clock.Elapsed)] };
    }

    /// <summary>Results keep each image's embedding (for reports) up to this many images.</summary>
    public const int EmbeddingsKeptUpTo = 20_000;

    /// <summary>
    /// The merge tree by the algorithm the options force, or else the one <see cref="ClusteringAlgorithmChoice.For(int, int, LinkageMethod, long, ClusteringAlgorithm?)"/> picks
    /// for N, D, the linkage and the memory budget; the choice and its reason travel with the tree.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">No algorithm fits the budget, or the forced one cannot run (the message says why).</exception>
    /// <remarks><paramref name="centreAssignment"/>: the two-stage methods' k-means assignment step (null: the SIMD kernel on the options' threads).</remarks>
    public static ClusterTree BuildTree(ReadOnlySpan<float> embeddings, int count, int dimension, ClusteringJobOptions options, ICentreAssignment? centreAssignment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var threads = options.ThreadCount();
        var choice = ClusteringAlgorithmChoice.For(count, dimension, options.Linkage, options.ClusteringMemoryBudgetBytes, options.Algorithm);
        var (algorithm, reason) = (choice.Algorithm, choice.Reason);
        return algorithm switch
        {
            ClusteringAlgorithm.DistanceMatrix => new ClusterTree(HierarchicalClustering.Linkage(embeddings, count, dimension, options.Linkage), null, algorithm, reason),
            ClusteringAlgorithm.LinearMemoryWard => new ClusterTree(LinearMemoryWard.Linkage(embeddings, count, dimension, threads), null, algorithm, reason),
            ClusteringAlgorithm.RefinedTwoStageWard => RefinedTwoStageWard.Run(
                embeddings, count, dimension, TwoStageWard.DefaultMicroClusterCount, RefinedTwoStageWard.DefaultGroupMaxPoints, options.Seed, threads, reason, centreAssignment),
            _ => TwoStageWard.Run(embeddings, count, dimension, TwoStageWard.DefaultMicroClusterCount, options.Seed, threads, reason, centreAssignment),
        };
    }

    /// <summary>
    /// True when the job finds K itself: asked to (<c>--clusters auto</c>), or given no K, no threshold and no labels
    /// (<paramref name="hasLabels"/>) to take it from.
    /// </summary>
    public static bool FindsClusterCount(ClusteringJobOptions options, bool hasLabels)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AutomaticClusterCount || (options.ClusterCount is null && options.DistanceThreshold is null && !hasLabels);
    }

    /// <summary>Throws unless the options can cut a tree over <paramref name="imageCount"/> images with <paramref name="classCount"/> label classes (null: no labels).</summary>
    /// <exception cref="InvalidClusteringInputException">K larger than the number of images, or fewer than 3 images to find K from.</exception>
    public static void CheckClusterCount(ClusteringJobOptions options, int imageCount, int? classCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (FindsClusterCount(options, classCount is not null))
        {
            if (imageCount < 3)
            {
                throw new InvalidClusteringInputException(
                    $"finding the number of clusters needs at least 3 images; there are {imageCount}. Give the number of clusters.", nameof(options));
            }
            return;
        }
        var clusters = options.ClusterCount ?? (options.DistanceThreshold is null ? classCount : null);
        if (clusters > imageCount)
        {
            throw new InvalidClusteringInputException(
                $"{clusters} clusters were asked for but there are only {imageCount} images; K must be at most the number of images.", nameof(options));
        }
    }

    /// <summary>
    /// The clustering with per-image patch weights attached (null for precomputed embeddings) and no timings: the last step
    /// of a job whose image embeddings were formed elsewhere (the pipeline, or a job coordinator).
    /// </summary>
    /// <remarks>
    /// <c>anomalyScores</c> (one per image) and <c>anomalyThreshold</c> (the job's label-free detection threshold), null
    /// when the job has none, serve <see cref="ClusteringJobOptions.DetectThenCluster"/>.
    /// </remarks>
    /// <exception cref="InvalidClusteringInputException">As for the other overload.</exception>
    public static ClusteringResult Run(
        ReadOnlySpan<float> embeddings, int count, int dimension, IReadOnlyList<string> ids, IReadOnlyList<string>? labels, ClusteringJobOptions options,
        float[][]? patchWeights, IProgress<PipelineProgress>? progress, IReadOnlyList<double>? anomalyScores = null, double? anomalyThreshold = null,
        ICentreAssignment? centreAssignment = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Guard.AtLeast(count, 2, "number of images to cluster");
        Guard.AtLeast(dimension, 1, "embedding dimension");
        Guard.Length(embeddings.Length, count * dimension, "embeddings (N x D)");
        Guard.Length(ids.Count, count, "image ids");
        if (labels is not null)
        {
            Guard.Length(labels.Count, count, "labels");
        }

        progress?.Report(new PipelineProgress(PipelineStage.Cluster, 0, 1));
        string[] classNames = labels is null ? [] : [.. labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        CheckClusterCount(options, count, labels is null ? null : classNames.Length);
        var automatic = FindsClusterCount(options, labels is not null);
        var resolved = automatic
            ? options with { AutomaticClusterCount = true }
            : options.ClusterCount is null && options.DistanceThreshold is null ? options with { ClusterCount = classNames.Length } : options;

        var (isGood, notDetected) = resolved.DetectThenCluster ? SplitAtThreshold(anomalyScores, anomalyThreshold, count) : (null, null);
        var tree = isGood is null
            ? BuildTree(embeddings, count, dimension, resolved, centreAssignment)
            : BuildDetectThenClusterTree(embeddings, dimension, resolved, isGood, anomalyThreshold!.Value, centreAssignment);
        var reason = notDetected is null ? tree.Reason
            : $"{tree.Reason}; detect-then-cluster was asked for but not applied: {notDetected}, so every image was clustered together";
        var choice = automatic ? ClusterCountSelector.Select(tree, embeddings, dimension, resolved.ClusterCountSearch) : null;
        var assignment = choice is not null ? tree.CutToClusters(choice.ClusterCount)
            : resolved.ClusterCount is { } k ? tree.CutToClusters(k)
            : tree.CutAtDistance(resolved.DistanceThreshold!.Value);
        // Past EmbeddingsKeptUpTo images a copy of every embedding would double the job's memory; reports then go without them.
        var keepEmbeddings = count <= EmbeddingsKeptUpTo;
        var images = new ClusteredImage[count];
        for (var i = 0; i < count; i++)
        {
            images[i] = new ClusteredImage(ids[i], assignment[i], labels?[i], patchWeights?[i], keepEmbeddings ? embeddings.Slice(i * dimension, dimension).ToArray() : null);
        }
        progress?.Report(new PipelineProgress(PipelineStage.Cluster, 1, 1));
        return new ClusteringResult
        {
            Options = resolved,
            Images = images,
            Errors = [],
            MergeTree = tree.Tree,
            LeafOfImage = tree.LeafOfPoint,
            Algorithm = tree.Algorithm,
            AlgorithmReason = reason,
            ClusterCountChoice = choice,
            AnomalyThreshold = anomalyThreshold,
            DetectedGood = isGood is null ? null : new DetectedGoodGroup(isGood.Count(good => good), assignment[Array.IndexOf(isGood, true)]),
            EmbeddingDimension = dimension,
            Scores = labels is null ? null : ClusteringMetrics.Evaluate(labels, assignment),
            ClassNames = classNames,
            Timings = [],
        };
    }

    /// <summary>
    /// Per image, whether its score is at or under the threshold; or, when that split cannot be made (no scores, no
    /// threshold, every image on one side), why not.
    /// </summary>
    private static (bool[]? IsGood, string? WhyNot) SplitAtThreshold(IReadOnlyList<double>? scores, double? threshold, int count)
    {
        if (scores is null)
        {
            return (null, "the images have no anomaly scores");
        }
        Guard.Length(scores.Count, count, "anomaly scores");
        if (threshold is not { } t)
        {
            return (null, "the job has no detection threshold (it needs at least 2 usable normal images)");
        }
        var isGood = scores.Select(score => score <= t).ToArray();
        var good = isGood.Count(g => g);
        return good == count ? (null, Invariant($"every image scored at or under the threshold {t:G6}"))
            : good == 0 ? (null, Invariant($"every image scored above the threshold {t:G6}"))
            : (isGood, null);
    }

    /// <summary>
    /// The tree over the images above the threshold (by the algorithm the options and their number choose) with the good
    /// group joined last (<see cref="DetectedGoodTree"/>). A fixed K larger than the number of images above the threshold
    /// plus one cannot be cut from it: that is refused with the counts.
    /// </summary>
    private static ClusterTree BuildDetectThenClusterTree(
        ReadOnlySpan<float> embeddings, int dimension, ClusteringJobOptions options, bool[] isGood, double threshold, ICentreAssignment? centreAssignment)
    {
        var defects = isGood.Count(good => !good);
        var good = isGood.Length - defects;
        if (options.ClusterCount is { } k && k > defects + 1)
        {
            throw new InvalidClusteringInputException(
                Invariant($"{k} clusters were asked for with detect-then-cluster, but only {defects} images score above the threshold {threshold:G6} ({good} at or under it form one cluster); ask for at most {defects + 1} clusters."),
                nameof(options));
        }
        ClusterTree? defectTree = null;
        if (defects >= 2)
        {
            var rows = new float[(long)defects * dimension];
            var row = 0;
            for (var i = 0; i < isGood.Length; i++)
            {
                if (!isGood[i])
                {
                    embeddings.Slice(i * dimension, dimension).CopyTo(rows.AsSpan(row++ * dimension, dimension));
                }
            }
            defectTree = BuildTree(rows, defects, dimension, options, centreAssignment);
        }
        var reason = Invariant($"{defectTree?.Reason ?? "one image above the threshold"}; detect-then-cluster: {good} images at or under the detection threshold {threshold:G6} form one cluster, the tree is over the other {defects}");
        return DetectedGoodTree.Compose(defectTree, isGood, embeddings, dimension, reason);
    }
}
