using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Exact Ward linkage in O(N D) memory (no distance matrix): the same merges and heights as
/// <c>scipy.cluster.hierarchy.linkage(X, 'ward')</c> (heights to rounding, see
/// <see cref="CentroidWardChain"/>), for any N whose centroids fit in memory. O(N^2 D) time,
/// 8 N D + O(N) bytes; the matrix path (<see cref="HierarchicalClustering"/>) needs 4 N(N-1).
/// </summary>
public static class LinearMemoryWard
{
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
        var centroids = GC.AllocateUninitializedArray<double>(points.Length);
        for (var i = 0; i < points.Length; i++)
        {
            centroids[i] = points[i];
        }
        return Run(centroids, Ones(count), count, dimension, maxDegreeOfParallelism);
    }

    /// <summary>Ward linkage of <paramref name="count"/> points of <paramref name="dimension"/> doubles (row-major).</summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch or a value that is not finite.</exception>
    public static MergeTree Linkage(ReadOnlySpan<double> points, int count, int dimension, int maxDegreeOfParallelism)
    {
        ValidateShape(points.Length, count, dimension, maxDegreeOfParallelism);
        Guard.Finite(points, "points");
        return Run(points.ToArray(), Ones(count), count, dimension, maxDegreeOfParallelism);
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
        return Run(centroids.ToArray(), weights.ToArray(), count, dimension, maxDegreeOfParallelism);
    }

    private static MergeTree Run(double[] centroids, long[] weights, int count, int dimension, int maxDegreeOfParallelism) =>
        MergeTree.FromUnsorted(CentroidWardChain.Run(centroids, weights, count, dimension, maxDegreeOfParallelism));

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
