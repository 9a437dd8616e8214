using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// A merge tree over N points with the algorithm that built it: either its leaves are the points
/// (<see cref="LeafOfPoint"/> null), or its leaves are micro-clusters and every point sits on
/// its micro-cluster's leaf (two-stage Ward). Flat cuts give a label for every point either way.
/// </summary>
public sealed class ClusterTree
{
    /// <summary>Wraps a tree and, for two-stage trees, the leaf of every point.</summary>
    /// <exception cref="InvalidClusteringInputException">A leaf index outside the tree.</exception>
    public ClusterTree(MergeTree tree, int[]? leafOfPoint, ClusteringAlgorithm algorithm, string reason)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(reason);
        if (leafOfPoint is not null && leafOfPoint.Any(leaf => (uint)leaf >= (uint)tree.PointCount))
        {
            throw new InvalidClusteringInputException($"a point's leaf is outside the tree's {tree.PointCount} leaves.", nameof(leafOfPoint));
        }
        Tree = tree;
        LeafOfPoint = leafOfPoint;
        Algorithm = algorithm;
        Reason = reason;
    }

    /// <summary>The merge tree in SciPy linkage form; its leaves are the points, or the micro-clusters when <see cref="LeafOfPoint"/> is set.</summary>
    public MergeTree Tree { get; }

    /// <summary>For a two-stage tree, the leaf (micro-cluster) of each point; null when the leaves are the points.</summary>
    public IReadOnlyList<int>? LeafOfPoint { get; }

    /// <summary>The algorithm that built the tree.</summary>
    public ClusteringAlgorithm Algorithm { get; }

    /// <summary>Why that algorithm was used, for a person (memory needed, budget, limits).</summary>
    public string Reason { get; }

    /// <summary>Number of points N.</summary>
    public int PointCount => LeafOfPoint?.Count ?? Tree.PointCount;

    /// <summary>
    /// At most K flat clusters (SciPy's <c>fcluster(Z, K, 'maxclust')</c> on the tree), a label per
    /// point numbered in order of each cluster's first point. K may not exceed the number of leaves.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">K below 1 or above the number of leaves.</exception>
    public int[] CutToClusters(int clusterCount)
    {
        if (LeafOfPoint is not null && clusterCount > Tree.PointCount)
        {
            throw new InvalidClusteringInputException(
                $"{clusterCount} clusters were asked for but the two-stage tree has {Tree.PointCount} micro-clusters; ask for at most that many, or use more micro-clusters.", nameof(clusterCount));
        }
        return ToPoints(Tree.CutToClusters(clusterCount));
    }

    /// <summary>The flat clusters whose merges all happen at or below the threshold (SciPy's <c>fcluster(Z, t, 'distance')</c> on the tree).</summary>
    /// <exception cref="InvalidClusteringInputException">The threshold is NaN.</exception>
    public int[] CutAtDistance(double threshold) => ToPoints(Tree.CutAtDistance(threshold));

    private int[] ToPoints(int[] leafLabels)
    {
        if (LeafOfPoint is null)
        {
            return leafLabels;
        }
        // Renumber so that labels follow each cluster's first point, as for a tree over the points.
        var renumber = new int[leafLabels.Length == 0 ? 0 : leafLabels.Max() + 1];
        Array.Fill(renumber, -1);
        var labels = new int[LeafOfPoint.Count];
        var next = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var label = leafLabels[LeafOfPoint[i]];
            if (renumber[label] < 0)
            {
                renumber[label] = next++;
            }
            labels[i] = renumber[label];
        }
        return labels;
    }
}
