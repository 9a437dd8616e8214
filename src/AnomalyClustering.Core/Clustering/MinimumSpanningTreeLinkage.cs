namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Single linkage by Prim's minimum spanning tree, a step-for-step replica of SciPy's
/// <c>_hierarchy.mst_single_linkage</c> (start at point 0, ties to the lowest index).
/// O(N^2) time, O(N) memory; the condensed matrix is only read.
/// </summary>
internal static unsafe class MinimumSpanningTreeLinkage
{
    /// <summary>Returns the spanning-tree edges in the order Prim's algorithm adds them.</summary>
    public static UnsortedMerges Run(double[] distances, int count)
    {
        var merges = new UnsortedMerges(count);
        var rowBases = CondensedDistanceMatrix.RowBases(count);
        // Distance from each point outside the tree to the tree.
        var toTree = new double[count];
        Array.Fill(toTree, double.PositiveInfinity);
        // Points not yet in the tree, ascending, so both halves of a row are walked in SciPy's order.
        var outside = new int[count];
        for (var i = 0; i < count; i++)
        {
            outside[i] = i;
        }
        var outsideCount = count;

        fixed (double* d = distances)
        fixed (long* bases = rowBases)
        fixed (int* rest = outside)
        fixed (double* reach = toTree)
        {
            var x = 0;
            for (var k = 0; k < count - 1; k++)
            {
                var xPosition = Array.BinarySearch(outside, 0, outsideCount, x);
                Array.Copy(outside, xPosition + 1, outside, xPosition, outsideCount - xPosition - 1);
                outsideCount--;

                var nearest = double.PositiveInfinity;
                var y = -1;
                var t = 0;
                for (; t < xPosition; t++)
                {
                    var i = rest[t];
                    var dist = d[bases[i] + x];
                    if (reach[i] > dist)
                    {
                        reach[i] = dist;
                    }
                    if (reach[i] < nearest)
                    {
                        nearest = reach[i];
                        y = i;
                    }
                }
                var rowX = d + bases[x];
                for (; t < outsideCount; t++)
                {
                    var i = rest[t];
                    var dist = rowX[i];
                    if (reach[i] > dist)
                    {
                        reach[i] = dist;
                    }
                    if (reach[i] < nearest)
                    {
                        nearest = reach[i];
                        y = i;
                    }
                }
                if (y < 0)
                {
                    throw new InvalidOperationException("no point is closer than infinity to the spanning tree; the distances are not finite.");
                }
                merges.Add(x, y, nearest);
                x = y;
            }
        }
        return merges;
    }
}
