using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Exact Ward linkage in O(N D) memory (no distance matrix): the same merges and heights as
/// <c>scipy.cluster.hierarchy.linkage(X, 'ward')</c> (heights to rounding, see
/// <see cref="CentroidWardChain"/>), for any N whose centroids fit in memory. O(N^2 D) time,
/// 4 N D + O(N) bytes for float points (a float copy; merged centroids keep ~48 bits as a float
/// high row plus a float low row in a freed row), 8 N D + O(N) for double input; the matrix path
/// (<see cref="HierarchicalClustering"/>) needs 4 N(N-1).
/// </summary>
public static class LinearMemoryWard
{
    /// <summary>Largest magnitude of a double input: float32 holds it (a float square that overflows is redone in double).</summary>
    public const double MaxMagnitude = 1e36;

    /// <summary>Ward linkage of <paramref name="count"/> points of <paramref name="dimension"/> floats (row-major).</summary>
    /// <param name="points">The points, row-major.</param>
    /// <param name="count">Number of points N (at least 2).</param>
    /// <param name="dimension">Dimension D (at least 1).</param>
    /// <param name="maxDegreeOfParallelism">Threads for the nearest-neighbour scans (at least 1); the result does not depend on it.</param>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch or a value that is not finite.</exception>
    public static MergeTree Linkage(ReadOnlySpan<float> points, int count, int dimension, int maxDegreeOfParallelism)
    {
        ValidateShape(points.Length, count, dimension, maxDegreeOfParallelism);
        Guard.Finite(points, "points");
        return Run(SplitFloatCentroids.FromSingles(points, count, dimension), Ones(count), maxDegreeOfParallelism);
    }

    /// <summary>Ward linkage of <paramref name="count"/> points of <paramref name="dimension"/> doubles (row-major).</summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch or a value that is not finite.</exception>
    public static MergeTree Linkage(ReadOnlySpan<double> points, int count, int dimension, int maxDegreeOfParallelism)
    {
        ValidateShape(points.Length, count, dimension, maxDegreeOfParallelism);
        Guard.Finite(points, "points");
        GuardFloatRange(points, "points");
        return Run(SplitFloatCentroids.FromDoubles(points, count, dimension), Ones(count), maxDegreeOfParallelism);
    }

    /// <summary>
    /// Ward linkage of clusters given by their centroids and sizes (for example micro-clusters):
    /// the tree Ward would build above them had each started as <paramref name="weights"/>[i]
    /// points at centroid i. The tree's leaves are the centroids; its sizes count leaves, as SciPy's do.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 centroids, a shape mismatch, a value that is not finite or a weight below 1.</exception>
    public static MergeTree WeightedLinkage(ReadOnlySpan<double> centroids, ReadOnlySpan<long> weights, int count, int dimension, int maxDegreeOfParallelism)
    {
        ValidateShape(centroids.Length, count, dimension, maxDegreeOfParallelism);
        Guard.Finite(centroids, "centroids");
        Guard.Length(weights.Length, count, "weights");
        foreach (var weight in weights)
        {
            if (weight < 1)
            {
                throw new InvalidClusteringInputException($"a centroid weight is {weight}; every weight must be at least 1 (a member count).", nameof(weights));
            }
        }
        GuardFloatRange(centroids, "centroids");
        return Run(SplitFloatCentroids.FromDoubles(centroids, count, dimension), weights.ToArray(), maxDegreeOfParallelism);
    }

    private static MergeTree Run(SplitFloatCentroids centroids, long[] weights, int maxDegreeOfParallelism) =>
        MergeTree.FromUnsorted(CentroidWardChain.Run(centroids, weights, maxDegreeOfParallelism));

    /// <summary>The scans work on float32 copies, so a double input must lie well inside float's range.</summary>
    private static void GuardFloatRange(ReadOnlySpan<double> values, string name)
    {
        foreach (var value in values)
        {
            if (Math.Abs(value) > MaxMagnitude)
            {
                throw new InvalidClusteringInputException($"{name} holds {value:G6}; exact Ward works on float32 copies and takes values up to {MaxMagnitude:G1} in magnitude (scale the data down).", name);
            }
        }
    }

    private static long[] Ones(int count)
    {
        var ones = new long[count];
        Array.Fill(ones, 1L);
        return ones;
    }

    private static void ValidateShape(int length, int count, int dimension, int maxDegreeOfParallelism)
    {
        Guard.AtLeast(count, 2, "number of points to cluster");
        Guard.AtLeast(dimension, 1, "point dimension");
        Guard.AtLeast(maxDegreeOfParallelism, 1, "thread count");
        Guard.Length(length, checked(count * dimension), "points (N x D)");
    }
}
