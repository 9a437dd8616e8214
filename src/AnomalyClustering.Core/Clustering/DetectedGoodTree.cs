using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Detect, then cluster (issue 13): the images a detector calls good form one leaf, the others keep the merge tree built
/// over them alone, and one last merge joins the two. Cutting this tree into K clusters therefore gives the good group plus
/// the other images' own tree cut into K - 1, and any other cut (another K, a distance threshold, the report's re-cut)
/// keeps the good group whole.
/// </summary>
public static class DetectedGoodTree
{
    /// <summary>
    /// The tree over all N points: leaf 0 is the good group, leaf 1 + l is leaf l of <paramref name="defectTree"/> (built
    /// over the non-good points in their order; null when there is exactly one), and the last merge joins leaf 0 with the
    /// rest at Ward's distance between the two groups (sqrt(2 n_g n_d / (n_g + n_d)) times their centroids' distance),
    /// raised above the highest merge of the defect tree if needed so the heights stay monotone. O(N D).
    /// </summary>
    /// <param name="defectTree">The tree over the points with <paramref name="isGood"/> false, or null when there is one such point.</param>
    /// <param name="isGood">Per point, whether the detector called it good; both kinds must occur.</param>
    /// <param name="points">All N points, row-major N x D (for the last merge's height).</param>
    /// <param name="dimension">D.</param>
    /// <param name="reason">Why the tree was built this way, for a person.</param>
    /// <exception cref="InvalidClusteringInputException">No good or no other point, or the defect tree does not match them.</exception>
    public static ClusterTree Compose(ClusterTree? defectTree, IReadOnlyList<bool> isGood, ReadOnlySpan<float> points, int dimension, string reason)
    {
        ArgumentNullException.ThrowIfNull(isGood);
        ArgumentNullException.ThrowIfNull(reason);
        Guard.AtLeast(dimension, 1, "dimension");
        Guard.Length(points.Length, isGood.Count * dimension, "points (N x D)");
        var goodCount = isGood.Count(good => good);
        var defectCount = isGood.Count - goodCount;
        if (goodCount == 0 || defectCount == 0)
        {
            throw new InvalidClusteringInputException(
                $"detect-then-cluster needs good and other points; got {goodCount} good and {defectCount} others.", nameof(isGood));
        }
        if ((defectTree is null) != (defectCount == 1) || (defectTree is not null && defectTree.PointCount != defectCount))
        {
            throw new InvalidClusteringInputException(
                $"the defect tree is over {defectTree?.PointCount ?? 1} points; {defectCount} points are not good.", nameof(defectTree));
        }

        var leaves = defectTree?.Tree.PointCount ?? 1;
        var rows = defectTree?.Tree.LinkageMatrix ?? [];
        var linkage = new double[leaves, 4];
        var highest = 0.0;
        // Every id of the defect tree moves up by one: its leaves make room for the good leaf 0, and so its merges (ids
        // leaves + r) become (leaves + 1) + r.
        for (var r = 0; r < rows.Count; r++)
        {
            linkage[r, 0] = rows[r].Left + 1;
            linkage[r, 1] = rows[r].Right + 1;
            linkage[r, 2] = rows[r].Height;
            linkage[r, 3] = rows[r].Size;
            highest = Math.Max(highest, rows[r].Height);
        }
        var height = WardDistance(isGood, points, dimension, goodCount, defectCount);
        linkage[leaves - 1, 0] = 0;
        linkage[leaves - 1, 1] = leaves == 1 ? 1 : 2 * leaves - 1;
        linkage[leaves - 1, 2] = rows.Count > 0 && !(height > highest) ? Math.BitIncrement(highest) : height;
        linkage[leaves - 1, 3] = leaves + 1;

        var leafOfPoint = new int[isGood.Count];
        var defectLeaves = defectTree?.LeafOfPoint;
        var defect = 0;
        for (var i = 0; i < leafOfPoint.Length; i++)
        {
            if (isGood[i])
            {
                continue;
            }
            leafOfPoint[i] = 1 + (defectLeaves is null ? defect : defectLeaves[defect]);
            defect++;
        }
        return new ClusterTree(MergeTree.FromLinkageArray(linkage), leafOfPoint, defectTree?.Algorithm ?? ClusteringAlgorithm.DistanceMatrix, reason);
    }

    private static double WardDistance(IReadOnlyList<bool> isGood, ReadOnlySpan<float> points, int dimension, int goodCount, int defectCount)
    {
        var good = new double[dimension];
        var other = new double[dimension];
        for (var i = 0; i < isGood.Count; i++)
        {
            var sums = isGood[i] ? good : other;
            var row = points.Slice(i * dimension, dimension);
            for (var d = 0; d < dimension; d++)
            {
                sums[d] += row[d];
            }
        }
        var squared = 0.0;
        for (var d = 0; d < dimension; d++)
        {
            var difference = (good[d] / goodCount) - (other[d] / defectCount);
            squared += difference * difference;
        }
        return Math.Sqrt(2.0 * goodCount * defectCount / (goodCount + defectCount) * squared);
    }
}
