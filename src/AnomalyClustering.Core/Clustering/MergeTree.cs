using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The full dendrogram of N points as SciPy's linkage matrix Z (N - 1 merges sorted by height),
/// with flat cuts that give the same partitions as <c>scipy.cluster.hierarchy.fcluster</c>.
/// O(N) memory.
/// </summary>
public sealed class MergeTree
{
    private readonly MergeStep[] _steps;

    /// <summary>For each row, the largest height in its subtree (SciPy's monotone criterion for cuts).</summary>
    private readonly double[] _subtreeMaxHeight;

    private MergeTree(int pointCount, MergeStep[] steps)
    {
        PointCount = pointCount;
        _steps = steps;
        _subtreeMaxHeight = new double[steps.Length];
        for (var r = 0; r < steps.Length; r++)
        {
            var max = steps[r].Height;
            if (steps[r].Left >= pointCount)
            {
                max = Math.Max(max, _subtreeMaxHeight[steps[r].Left - pointCount]);
            }
            if (steps[r].Right >= pointCount)
            {
                max = Math.Max(max, _subtreeMaxHeight[steps[r].Right - pointCount]);
            }
            _subtreeMaxHeight[r] = max;
        }
        LinkageMatrix = Array.AsReadOnly(steps);
    }

    /// <summary>Number of points N (leaves).</summary>
    public int PointCount { get; }

    /// <summary>
    /// The N - 1 merges, row r exactly as SciPy's Z[r]: (left id, right id, height, size), left &lt; right,
    /// ids below N are points and id N + r is the cluster made by row r, rows in non-decreasing height.
    /// </summary>
    public IReadOnlyList<MergeStep> LinkageMatrix { get; }

    /// <summary>The linkage matrix as SciPy stores it: an (N - 1) x 4 array of doubles.</summary>
    public double[,] ToLinkageArray()
    {
        var z = new double[_steps.Length, 4];
        for (var r = 0; r < _steps.Length; r++)
        {
            z[r, 0] = _steps[r].Left;
            z[r, 1] = _steps[r].Right;
            z[r, 2] = _steps[r].Height;
            z[r, 3] = _steps[r].Size;
        }
        return z;
    }

    /// <summary>
    /// Reads a linkage matrix made elsewhere (for example SciPy's Z), checking that it is a valid
    /// dendrogram: every id used once, children before parents, sizes that add up. O(N) time.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The array is not (N - 1) x 4 or not a valid dendrogram.</exception>
    public static MergeTree FromLinkageArray(double[,] linkage)
    {
        ArgumentNullException.ThrowIfNull(linkage);
        if (linkage.GetLength(1) != 4 || linkage.GetLength(0) < 1)
        {
            throw new InvalidClusteringInputException(
                $"a linkage matrix is (N - 1) x 4 with N >= 2; got {linkage.GetLength(0)} x {linkage.GetLength(1)}.", nameof(linkage));
        }
        var pointCount = linkage.GetLength(0) + 1;
        var steps = new MergeStep[pointCount - 1];
        var used = new bool[2 * pointCount - 1];
        var sizes = new int[2 * pointCount - 1];
        Array.Fill(sizes, 1, 0, pointCount);
        for (var r = 0; r < steps.Length; r++)
        {
            var left = ReadId(linkage[r, 0], r, pointCount, used);
            var right = ReadId(linkage[r, 1], r, pointCount, used);
            var height = linkage[r, 2];
            if (!double.IsFinite(height) || left >= right)
            {
                throw new InvalidClusteringInputException(
                    $"linkage row {r} is ({linkage[r, 0]}, {linkage[r, 1]}, {height}); ids must be ordered left < right and the height finite.", nameof(linkage));
            }
            var size = sizes[left] + sizes[right];
            if (linkage[r, 3] != size)
            {
                throw new InvalidClusteringInputException(
                    $"linkage row {r} says size {linkage[r, 3]}, but its children hold {size} points.", nameof(linkage));
            }
            sizes[pointCount + r] = size;
            steps[r] = new MergeStep(left, right, height, size);
        }
        return new MergeTree(pointCount, steps);
    }

    /// <summary>
    /// At most <paramref name="clusterCount"/> flat clusters, the same partition as SciPy's
    /// <c>fcluster(Z, clusterCount, 'maxclust')</c>: the lowest merge height whose cut leaves no more
    /// than that many clusters (ties at that height can leave fewer). K = N gives singletons.
    /// Follows SciPy 1.15+, which fixed 1.10's search for K close to N. O(N log N) time.
    /// </summary>
    /// <returns>A label per point, 0-based, numbered in order of each cluster's first point.</returns>
    /// <exception cref="InvalidClusteringInputException"><paramref name="clusterCount"/> is below 1 or above N.</exception>
    public int[] CutToClusters(int clusterCount)
    {
        if (clusterCount < 1 || clusterCount > PointCount)
        {
            throw new InvalidClusteringInputException(
                $"cluster count K is {clusterCount}; it must be between 1 and the number of points, {PointCount}.", nameof(clusterCount));
        }
        if (clusterCount == PointCount)
        {
            return Partition(double.NegativeInfinity);
        }
        // SciPy's binary search over the rows' monotone criterion (as fixed in SciPy 1.15,
        // scipy/scipy#21121; 1.10 never tried the lowest merge): the first row whose height, taken
        // as the cut, leaves at most clusterCount clusters. The root row always qualifies, so
        // upper never stays at the out-of-range start.
        var lower = -1;
        var upper = PointCount - 1;
        while (upper - lower > 1)
        {
            var middle = (lower + upper) >> 1;
            if (ClustersAtOrBelow(_subtreeMaxHeight[middle]) > clusterCount)
            {
                lower = middle;
            }
            else
            {
                upper = middle;
            }
        }
        return Partition(_subtreeMaxHeight[upper]);
    }

    /// <summary>
    /// The flat clusters whose merges all happen at or below <paramref name="threshold"/>, the same
    /// partition as SciPy's <c>fcluster(Z, threshold, 'distance')</c>. O(N) time.
    /// </summary>
    /// <returns>A label per point, 0-based, numbered in order of each cluster's first point.</returns>
    /// <exception cref="InvalidClusteringInputException"><paramref name="threshold"/> is NaN.</exception>
    public int[] CutAtDistance(double threshold)
    {
        if (double.IsNaN(threshold))
        {
            throw new InvalidClusteringInputException("the distance threshold is NaN; pass a number (merges at or below it are kept).", nameof(threshold));
        }
        return Partition(threshold);
    }

    /// <summary>Sorts merges found by an algorithm by height and relabels them, as SciPy's linkage does.</summary>
    internal static MergeTree FromUnsorted(UnsortedMerges merges)
    {
        var pointCount = merges.PointCount;
        var heights = merges.Heights;
        // NumPy's stable mergesort: equal heights keep the order found; NaN would go last.
        var order = new int[heights.Length];
        for (var r = 0; r < order.Length; r++)
        {
            order[r] = r;
        }
        Array.Sort(order, (a, b) =>
        {
            var ha = heights[a];
            var hb = heights[b];
            if (ha < hb)
            {
                return -1;
            }
            if (ha > hb)
            {
                return 1;
            }
            var nanA = double.IsNaN(ha);
            var nanB = double.IsNaN(hb);
            return nanA == nanB ? a.CompareTo(b) : nanA ? 1 : -1;
        });

        // SciPy's label(): a union-find whose roots are the dendrogram ids assigned so far.
        var parent = new int[2 * pointCount - 1];
        var size = new int[2 * pointCount - 1];
        for (var i = 0; i < parent.Length; i++)
        {
            parent[i] = i;
            size[i] = 1;
        }
        var steps = new MergeStep[pointCount - 1];
        for (var r = 0; r < steps.Length; r++)
        {
            var o = order[r];
            var rootA = Find(parent, merges.First[o]);
            var rootB = Find(parent, merges.Second[o]);
            var merged = pointCount + r;
            parent[rootA] = merged;
            parent[rootB] = merged;
            size[merged] = size[rootA] + size[rootB];
            steps[r] = new MergeStep(Math.Min(rootA, rootB), Math.Max(rootA, rootB), heights[o], size[merged]);
        }
        return new MergeTree(pointCount, steps);
    }

    private static int Find(int[] parent, int node)
    {
        var root = node;
        while (parent[root] != root)
        {
            root = parent[root];
        }
        while (node != root)
        {
            var next = parent[node];
            parent[node] = root;
            node = next;
        }
        return root;
    }

    private static int ReadId(double value, int row, int pointCount, bool[] used)
    {
        var id = (int)value;
        if (id != value || id < 0 || id >= pointCount + row || used[id])
        {
            throw new InvalidClusteringInputException(
                $"linkage row {row} names cluster {value}, which is not a point or an earlier, unused cluster.", "linkage");
        }
        used[id] = true;
        return id;
    }

    /// <summary>Number of flat clusters when every row whose subtree stays at or below the cut is joined.</summary>
    private int ClustersAtOrBelow(double cut)
    {
        // The criterion grows towards the root, so the joined rows form whole subtrees and each removes one cluster.
        var clusters = PointCount;
        foreach (var m in _subtreeMaxHeight)
        {
            if (m <= cut)
            {
                clusters--;
            }
        }
        return clusters;
    }

    /// <summary>Joins the rows whose subtree maximum is at or below the cut; labels clusters by first point.</summary>
    private int[] Partition(double cut)
    {
        // Each node's cluster representative: a leaf, or for a joined row the representative of its children.
        var representative = new int[2 * PointCount - 1];
        for (var i = 0; i < PointCount; i++)
        {
            representative[i] = i;
        }
        var leafParent = new int[PointCount];
        for (var i = 0; i < PointCount; i++)
        {
            leafParent[i] = i;
        }
        for (var r = 0; r < _steps.Length; r++)
        {
            var left = representative[_steps[r].Left];
            var right = representative[_steps[r].Right];
            if (_subtreeMaxHeight[r] <= cut)
            {
                var rootLeft = Find(leafParent, left);
                var rootRight = Find(leafParent, right);
                leafParent[Math.Max(rootLeft, rootRight)] = Math.Min(rootLeft, rootRight);
            }
            representative[PointCount + r] = left;
        }
        var labels = new int[PointCount];
        var labelOfRoot = new int[PointCount];
        Array.Fill(labelOfRoot, -1);
        var next = 0;
        for (var i = 0; i < PointCount; i++)
        {
            var root = Find(leafParent, i);
            if (labelOfRoot[root] < 0)
            {
                labelOfRoot[root] = next++;
            }
            labels[i] = labelOfRoot[root];
        }
        return labels;
    }
}
