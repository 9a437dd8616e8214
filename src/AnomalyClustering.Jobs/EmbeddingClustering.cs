using System.Diagnostics;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// The clustering half of a job (METHOD sections 3-5): Euclidean distances between image embeddings,
/// agglomerative clustering, the cut at K clusters or at a distance threshold, and NMI / ARI / F1
/// against the labels when there are any. Used for embeddings computed here and elsewhere.
/// </summary>
/// <remarks>O(N^2 D) for the distances, O(N^2) for the linkage (SciPy's algorithms); O(N^2) memory.</remarks>
public static class EmbeddingClustering
{
    /// <summary>
    /// Clusters N image embeddings of dimension D (row-major). K defaults to the number of distinct
    /// labels when neither K nor a distance threshold is set.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 images, K larger than N, no way to cut without labels, mismatched lengths or non-finite values.</exception>
    public static ClusteringResult Run(
        ReadOnlySpan<float> embeddings, int count, int dimension, IReadOnlyList<string> ids, IReadOnlyList<string>? labels, ClusteringJobOptions options,
        IProgress<PipelineProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Guard.Finite(embeddings, "embeddings");
        var clock = Stopwatch.StartNew();
        var result = Run(embeddings, count, dimension, ids, labels, options, patchWeights: null, progress);
        return result with { Timings = [new StageTiming(PipelineStage.Cluster, clock.Elapsed)] };
    }

    /// <summary>Throws unless the options can cut a tree over <paramref name="imageCount"/> images with <paramref name="classCount"/> label classes (null: no labels).</summary>
    /// <exception cref="InvalidClusteringInputException">No K, threshold or labels; or K larger than the number of images.</exception>
    public static void CheckClusterCount(ClusteringJobOptions options, int imageCount, int? classCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ClusterCount is null && options.DistanceThreshold is null && classCount is null)
        {
            throw new InvalidClusteringInputException("the images have no labels, so the number of clusters or a distance threshold must be given.", nameof(options));
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
    /// <exception cref="InvalidClusteringInputException">As for the other overload.</exception>
    public static ClusteringResult Run(
        ReadOnlySpan<float> embeddings, int count, int dimension, IReadOnlyList<string> ids, IReadOnlyList<string>? labels, ClusteringJobOptions options,
        float[][]? patchWeights, IProgress<PipelineProgress>? progress)
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
        var resolved = options.ClusterCount is null && options.DistanceThreshold is null
            ? options with { ClusterCount = classNames.Length }
            : options;

        var tree = HierarchicalClustering.Linkage(embeddings, count, dimension, resolved.Linkage);
        var assignment = resolved.ClusterCount is { } k ? tree.CutToClusters(k) : tree.CutAtDistance(resolved.DistanceThreshold!.Value);
        var images = new ClusteredImage[count];
        for (var i = 0; i < count; i++)
        {
            images[i] = new ClusteredImage(ids[i], assignment[i], labels?[i], patchWeights?[i], embeddings.Slice(i * dimension, dimension).ToArray());
        }
        progress?.Report(new PipelineProgress(PipelineStage.Cluster, 1, 1));
        return new ClusteringResult
        {
            Options = resolved,
            Images = images,
            Errors = [],
            MergeTree = tree,
            EmbeddingDimension = dimension,
            Scores = labels is null ? null : ClusteringMetrics.Evaluate(labels, assignment),
            ClassNames = classNames,
            Timings = [],
        };
    }
}
