using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Dendrograms;

/// <summary>A leaf of a drawn dendrogram: one image, or (when truncated) a subtree drawn as one leaf.</summary>
/// <param name="Node">The node id of the linkage matrix (below N: an image; N + r: the merge of row r).</param>
/// <param name="X">Horizontal position, in leaf slots (0.5, 1.5, ...).</param>
/// <param name="Size">Images under it.</param>
/// <param name="Cluster">The flat cluster all its images are in, or -1 when they are in several.</param>
public readonly record struct DendrogramLeaf(int Node, double X, int Size, int Cluster);

/// <summary>One merge drawn as a U: up from each child to the merge height, across between them.</summary>
/// <param name="Row">The linkage matrix row.</param>
/// <param name="LeftX">Position of the left child.</param>
/// <param name="RightX">Position of the right child.</param>
/// <param name="LeftHeight">Height of the left child (0 for a leaf).</param>
/// <param name="RightHeight">Height of the right child.</param>
/// <param name="Height">The merge height.</param>
/// <param name="Cluster">The flat cluster the merge lies in, or -1 when it joins clusters (above the cut).</param>
public readonly record struct DendrogramLink(int Row, double LeftX, double RightX, double LeftHeight, double RightHeight, double Height, int Cluster);

/// <summary>
/// The geometry of a dendrogram, as SciPy's <c>dendrogram</c> lays it out: leaves left to right in the order of a
/// depth-first walk from the root that visits each merge's left child (Z[r, 0]) first, each merge centred over its
/// children at its height. Large trees are truncated like SciPy's <c>truncate_mode="lastp"</c>: only the last p - 1
/// merges are drawn and the p subtrees below them become leaves. The cut line is at the distance threshold, or for a cut
/// into K clusters halfway between the last merge kept and the first merge undone.
/// </summary>
/// <remarks>O(N) time and memory from a whole tree; O(leaves) from a digest's tree top.</remarks>
public sealed class DendrogramLayout
{
    private DendrogramLayout(IReadOnlyList<DendrogramLeaf> leaves, IReadOnlyList<DendrogramLink> links, double cutHeight, double maxHeight)
    {
        Leaves = leaves;
        Links = links;
        CutHeight = cutHeight;
        MaxHeight = maxHeight;
    }

    /// <summary>The leaves, left to right.</summary>
    public IReadOnlyList<DendrogramLeaf> Leaves { get; }

    /// <summary>The drawn merges, in linkage order.</summary>
    public IReadOnlyList<DendrogramLink> Links { get; }

    /// <summary>Height of the cut line.</summary>
    public double CutHeight { get; }

    /// <summary>The root's height (the top of the drawing).</summary>
    public double MaxHeight { get; }

    /// <summary>True when subtrees were collapsed into leaves.</summary>
    public bool IsTruncated => Leaves.Any(leaf => leaf.Size > 1);

    /// <summary>Lays out <paramref name="tree"/> with at most <paramref name="maxLeaves"/> leaves.</summary>
    /// <param name="tree">The merge tree.</param>
    /// <param name="clusterOfPoint">The flat cluster of every point (the cut of the result).</param>
    /// <param name="clusterCount">K when the tree was cut into K clusters, else null.</param>
    /// <param name="distanceThreshold">The threshold when the tree was cut by distance, else null.</param>
    /// <param name="maxLeaves">Most leaves drawn (p of "lastp"); raised to K so that every cluster shows.</param>
    /// <exception cref="ArgumentException">The cluster list does not have one entry per point, or neither cut is given.</exception>
    public static DendrogramLayout Of(MergeTree tree, IReadOnlyList<int> clusterOfPoint, int? clusterCount, double? distanceThreshold, int maxLeaves = 120)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var n = tree.PointCount;
        // The same top a report digest keeps, for the leaves drawn here (the digest's computation, not a second one).
        var leafCount = Math.Clamp(Math.Max(maxLeaves, clusterCount ?? 0), 2, n);
        return Of(ReportDigestTree.Of(tree, clusterOfPoint, leafCount), clusterCount, distanceThreshold, leafCount);
    }

    /// <summary>
    /// Lays out the top of a tree as a report digest keeps it (<see cref="ReportDigestTree"/>): the same drawing as
    /// <see cref="Of(MergeTree, IReadOnlyList{int}, int?, double?, int)"/> of the whole tree, for at most the leaves the
    /// digest kept. O(leaves) time, whatever N is.
    /// </summary>
    public static DendrogramLayout Of(ReportDigestTree top, int? clusterCount, double? distanceThreshold, int maxLeaves = 120)
    {
        ArgumentNullException.ThrowIfNull(top);
        // A top from row 0 is the whole tree; otherwise it keeps the row below its drawn merges, so it draws one leaf fewer than its rows.
        var drawable = top.FirstRow == 0 ? top.PointCount : top.PointCount - top.FirstRow - 1;
        return Lay(top.PointCount, top.Row, node => top.ClusterOfNode[node], node => top.SizeOfNode[node], clusterCount, distanceThreshold, Math.Min(maxLeaves, Math.Max(2, drawable)));
    }

    private static DendrogramLayout Lay(
        int n, Func<int, MergeStep> row, Func<int, int> clusterOfNode, Func<int, int> sizeOfNode, int? clusterCount, double? distanceThreshold, int maxLeaves)
    {
        var leafCount = Math.Clamp(Math.Max(maxLeaves, clusterCount ?? 0), 2, n);
        // Rows below this one are collapsed: nodes with id < n + firstDrawnRow become leaves.
        var firstDrawnRow = n - leafCount;
        // Depth-first from the root, left child first (an explicit stack: trees can be N deep).
        var leaves = new List<DendrogramLeaf>(leafCount);
        var stack = new Stack<int>();
        stack.Push(2 * n - 2);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node < n + firstDrawnRow)
            {
                leaves.Add(new DendrogramLeaf(node, leaves.Count + 0.5, sizeOfNode(node), clusterOfNode(node)));
                continue;
            }
            stack.Push(row(node - n).Right);
            stack.Push(row(node - n).Left);
        }
        // Positions and heights of the drawn nodes only (leaves and merges from firstDrawnRow): O(leaves), not O(N).
        var x = new Dictionary<int, double>(2 * leafCount);
        var height = new Dictionary<int, double>(2 * leafCount);
        foreach (var leaf in leaves)
        {
            x[leaf.Node] = leaf.X;
            height[leaf.Node] = 0;
        }
        var links = new List<DendrogramLink>(leafCount - 1);
        for (var r = firstDrawnRow; r < n - 1; r++)
        {
            var step = row(r);
            x[n + r] = (x[step.Left] + x[step.Right]) / 2;
            height[n + r] = step.Height;
            links.Add(new DendrogramLink(r, x[step.Left], x[step.Right], height[step.Left], height[step.Right], step.Height, clusterOfNode(n + r)));
        }
        var maxHeight = row(n - 2).Height;
        return new DendrogramLayout(leaves, links, CutHeightOf(n, row, clusterCount, distanceThreshold, maxHeight), maxHeight);
    }

    private static double CutHeightOf(int n, Func<int, MergeStep> rows, int? clusterCount, double? distanceThreshold, double maxHeight)
    {
        if (distanceThreshold is { } threshold)
        {
            return threshold;
        }
        if (clusterCount is not { } k)
        {
            throw new ArgumentException("give the cluster count or the distance threshold the tree was cut at.", nameof(clusterCount));
        }
        if (k <= 1)
        {
            return maxHeight * 1.05;
        }
        if (k >= n)
        {
            return rows(0).Height / 2;
        }
        // Rows 0 .. n-k-1 are kept, row n-k is the first undone.
        return (rows(n - k - 1).Height + rows(n - k).Height) / 2;
    }
}
