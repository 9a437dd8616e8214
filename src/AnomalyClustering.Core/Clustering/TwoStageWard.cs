using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Ward for millions of points, approximately: seeded k-means micro-clusters
/// (<see cref="MicroClusters"/>), then exact Ward on their centroids weighted by their member
/// counts, every point on its micro-cluster's leaf. Differs from exact Ward in that points of one
/// micro-cluster are never separated and the micro-clusters themselves come from k-means, not
/// from Ward merges. O(passes N C D + C^2 D) time, O(C D + N) memory besides the points.
/// </summary>
public static class TwoStageWard
{
    /// <summary>Default number of micro-clusters C: far more than any useful K, small enough for exact Ward on them in seconds.</summary>
    public const int DefaultMicroClusterCount = 2048;

    /// <summary>Clusters <paramref name="count"/> points in two stages; the tree's leaves are the non-empty micro-clusters.</summary>
    /// <param name="points">The points, row-major, N x D floats.</param>
    /// <param name="count">Number of points N (at least 2).</param>
    /// <param name="dimension">Dimension D.</param>
    /// <param name="microClusterCount">At most this many micro-clusters (at least 2).</param>
    /// <param name="seed">Seed of the k-means++ sample and draws.</param>
    /// <param name="maxDegreeOfParallelism">Threads for the assignment and the Ward scans (at least 1).</param>
    /// <param name="reason">Why this algorithm was chosen, kept in the result.</param>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, a value that is not finite, or fewer than 2 micro-clusters.</exception>
    public static ClusterTree Run(ReadOnlySpan<float> points, int count, int dimension, int microClusterCount, int seed, int maxDegreeOfParallelism, string reason) =>
        Run(points, count, dimension, microClusterCount, seed, maxDegreeOfParallelism, reason, assignment: null);

    /// <summary>As the other overload, with the k-means assignment step run by <paramref name="assignment"/> (null: the SIMD kernel on <paramref name="maxDegreeOfParallelism"/> threads).</summary>
    /// <remarks>Another step (a graph on a GPU) is named in the result's reason; its near ties may fall otherwise than the kernel's, so the micro-clusters can differ slightly.</remarks>
    /// <exception cref="InvalidClusteringInputException">As for the other overload.</exception>
    public static ClusterTree Run(
        ReadOnlySpan<float> points, int count, int dimension, int microClusterCount, int seed, int maxDegreeOfParallelism, string reason, ICentreAssignment? assignment)
    {
        Guard.AtLeast(count, 2, "number of points to cluster");
        Guard.AtLeast(dimension, 1, "point dimension");
        Guard.AtLeast(microClusterCount, 2, "number of micro-clusters");
        Guard.AtLeast(maxDegreeOfParallelism, 1, "thread count");
        Guard.Length(points.Length, checked(count * dimension), "points (N x D)");
        Guard.Finite(points, "points");
        var step = assignment ?? new SimdCentreAssignment(maxDegreeOfParallelism);
        var (centroids, counts, leafOfPoint) = MicroClusters.Run(points, count, dimension, microClusterCount, seed, maxDegreeOfParallelism, step);
        if (counts.Length < 2)
        {
            // Every point is the same, so k-means keeps one micro-cluster and there is no tree to build above it.
            throw new InvalidClusteringInputException("all points are identical, so there is nothing to cluster in two stages; use the exact path.", nameof(points));
        }
        var tree = LinearMemoryWard.WeightedLinkage(centroids, counts, counts.Length, dimension, maxDegreeOfParallelism);
        return new ClusterTree(tree, leafOfPoint, ClusteringAlgorithm.TwoStageWard, assignment is null ? reason : $"{reason}; k-means assignment: {assignment.Description}");
    }
}
