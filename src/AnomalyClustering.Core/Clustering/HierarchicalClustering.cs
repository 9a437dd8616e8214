using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Exact agglomerative clustering (METHOD section 4) with the same merges and heights as
/// <c>scipy.cluster.hierarchy.linkage(X, method)</c>: ward, average and complete by the
/// nearest-neighbour chain, single by a minimum spanning tree, as SciPy and fastcluster do.
/// O(N^2) time for the linkage (plus O(N^2 D) for distances), O(N^2) memory for the condensed
/// distances (8 bytes per pair: 0.4 GB at N = 10,000, 1.6 GB at N = 20,000).
/// </summary>
public static class HierarchicalClustering
{
    /// <summary>
    /// Clusters points under Euclidean distance: computes the condensed distances in parallel, then
    /// links in place on that matrix (no second copy). O(N^2 D + N^2) time, 4 N(N-1) bytes peak.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, a value that is not finite, or an unknown method.</exception>
    public static MergeTree Linkage(ReadOnlySpan<float> points, int count, int dimension, LinkageMethod method)
    {
        ValidateMethod(method);
        return LinkageInPlace(CondensedDistanceMatrix.FromPoints(points, count, dimension), method);
    }

    /// <summary>
    /// Clusters points under Euclidean distance: computes the condensed distances in parallel, then
    /// links in place on that matrix (no second copy). O(N^2 D + N^2) time, 4 N(N-1) bytes peak.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, a value that is not finite, or an unknown method.</exception>
    public static MergeTree Linkage(ReadOnlySpan<double> points, int count, int dimension, LinkageMethod method)
    {
        ValidateMethod(method);
        return LinkageInPlace(CondensedDistanceMatrix.FromPoints(points, count, dimension), method);
    }

    /// <summary>
    /// Clusters from precomputed distances and leaves <paramref name="distances"/> untouched: ward,
    /// average and complete work on a copy (another 4 N(N-1) bytes), single reads the matrix as is.
    /// Use <see cref="LinkageInPlace"/> to avoid the copy. O(N^2) time.
    /// </summary>
    /// <remarks>Ward is only meaningful for Euclidean distances; SciPy makes the same assumption.</remarks>
    /// <exception cref="InvalidClusteringInputException">An unknown method.</exception>
    /// <exception cref="InvalidOperationException">The matrix was already consumed by <see cref="LinkageInPlace"/>.</exception>
    public static MergeTree Linkage(CondensedDistanceMatrix distances, LinkageMethod method)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ValidateMethod(method);
        var values = distances.Values;
        var merges = method == LinkageMethod.Single
            ? MinimumSpanningTreeLinkage.Run(values, distances.PointCount)
            : NearestNeighborChain.Run(WorkingCopy(values), distances.PointCount, method);
        return MergeTree.FromUnsorted(merges);
    }

    /// <summary>
    /// Clusters from precomputed distances, using <paramref name="distances"/> as the working matrix:
    /// no copy, O(N) extra memory, O(N^2) time. The matrix is consumed: its array (for
    /// <see cref="CondensedDistanceMatrix.FromCondensed"/>, the caller's array) is overwritten by
    /// ward, average and complete, and afterwards <see cref="CondensedDistanceMatrix.IsConsumed"/>
    /// is true and the matrix's values are unavailable.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">An unknown method.</exception>
    /// <exception cref="InvalidOperationException">The matrix was already consumed.</exception>
    public static MergeTree LinkageInPlace(CondensedDistanceMatrix distances, LinkageMethod method)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ValidateMethod(method);
        var count = distances.PointCount;
        var values = distances.Consume();
        LargePages.Advise(values, alreadyWritten: true);
        var merges = method == LinkageMethod.Single
            ? MinimumSpanningTreeLinkage.Run(values, count)
            : NearestNeighborChain.Run(values, count, method);
        return MergeTree.FromUnsorted(merges);
    }

    private static double[] WorkingCopy(double[] values)
    {
        var copy = LargePages.AllocateUninitialized(values.Length);
        values.AsSpan().CopyTo(copy);
        return copy;
    }

    private static void ValidateMethod(LinkageMethod method)
    {
        if (!Enum.IsDefined(method))
        {
            throw new InvalidClusteringInputException(
                $"linkage method {(int)method} is unknown; use ward, average, complete or single.", nameof(method));
        }
    }
}
