namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Merges in the order an algorithm found them, each naming the two clusters by a member point
/// (the index where the cluster lives), as SciPy's nn_chain and mst_single_linkage produce them
/// before sorting by height and relabelling.
/// </summary>
internal sealed class UnsortedMerges(int pointCount)
{
    private int _count;

    /// <summary>Number of points N; there are N - 1 merges.</summary>
    public int PointCount { get; } = pointCount;

    /// <summary>First member named by each merge.</summary>
    public int[] First { get; } = new int[pointCount - 1];

    /// <summary>Second member named by each merge.</summary>
    public int[] Second { get; } = new int[pointCount - 1];

    /// <summary>The linkage distance of each merge.</summary>
    public double[] Heights { get; } = new double[pointCount - 1];

    /// <summary>Records the next merge.</summary>
    public void Add(int first, int second, double height)
    {
        First[_count] = first;
        Second[_count] = second;
        Heights[_count] = height;
        _count++;
    }
}
