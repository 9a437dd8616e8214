using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Two-stage Ward with its low part made exact: the two-stage tree (<see cref="TwoStageWard"/>) is cut into its
/// largest subtrees of at most G points (the groups), exact Ward (<see cref="LinearMemoryWard"/>) rebuilds the tree
/// inside each group from its points, and the two-stage tree's own merges above the groups (Ward on the groups' centroids
/// weighted by their sizes) join them. The leaves are the points, so any K up to N can be cut.
/// </summary>
/// <remarks>
/// <para>
/// Why it can be exact: Ward's merge cost between two clusters depends only on their sizes and centroids, and Ward is
/// reducible, so if a set of points is a cluster of the exact tree, the exact tree's merges inside it are exact Ward run on
/// that set alone, and the merges above such clusters are Ward on their centroids and sizes. Hence whenever every group
/// is a cluster of exact Ward's tree (well-separated structure that the micro-clusters do not straddle), the result is
/// exact Ward's tree: the same merges, heights to rounding. Otherwise it is exact inside each group and approximate
/// above; a merge above the groups that comes out lower than a merge inside one of them (an inversion exact Ward never
/// has) is raised to that height, so the tree stays monotone, and the number raised is stated in the reason.
/// </para>
/// <para>
/// Cost: two-stage Ward's O(passes N C D + C^2 D), plus O(sum of n_g^2 D) &lt;= O(N G D) for the groups, run up to
/// <see cref="ConcurrentGroups"/> at a time; memory two-stage Ward's plus a float copy of the groups being refined
/// (4 G D each) and O(N) for the tree over the points.
/// </para>
/// </remarks>
public static class RefinedTwoStageWard
{
    /// <summary>Default G: exact Ward on 20,000 x 256 takes seconds of CPU (docs/BENCHMARKS.md, "Ward at any N").</summary>
    public const int DefaultGroupMaxPoints = 20_000;

    /// <summary>
    /// Up to this many points the refinement costs at most N G D work (minutes on two cores at 200,000 x 256); beyond it
    /// plain two-stage Ward runs, whose tree over micro-clusters also keeps the result files small.
    /// </summary>
    public const int MaxPoints = 200_000;

    /// <summary>Groups refined at once (each single-threaded below exact Ward's split threshold); bounds the memory estimate.</summary>
    public const int ConcurrentGroups = 4;

    /// <summary>Clusters <paramref name="count"/> points: the two-stage tree, then exact Ward inside its subtrees of at most <paramref name="groupMaxPoints"/> points.</summary>
    /// <param name="points">The points, row-major, N x D floats.</param>
    /// <param name="count">Number of points N (at least 2).</param>
    /// <param name="dimension">Dimension D.</param>
    /// <param name="microClusterCount">At most this many micro-clusters for the first stage (at least 2).</param>
    /// <param name="groupMaxPoints">Largest group refined by exact Ward (at least 2); a micro-cluster larger than this is refined whole.</param>
    /// <param name="seed">Seed of the micro-clusters' k-means.</param>
    /// <param name="maxDegreeOfParallelism">Threads (at least 1): the first stage's, and groups refined at once (at most <see cref="ConcurrentGroups"/>).</param>
    /// <param name="reason">Why this algorithm was chosen; the refinement's figures are appended.</param>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, a value that is not finite, identical points, or a bad count.</exception>
    public static ClusterTree Run(
        ReadOnlySpan<float> points, int count, int dimension, int microClusterCount, int groupMaxPoints, int seed, int maxDegreeOfParallelism, string reason) =>
        Run(points, count, dimension, microClusterCount, groupMaxPoints, seed, maxDegreeOfParallelism, reason, assignment: null);

    /// <summary>As the other overload, with the first stage's k-means assignment run by <paramref name="assignment"/> (null: the SIMD kernel).</summary>
    /// <exception cref="InvalidClusteringInputException">As for the other overload.</exception>
    public static ClusterTree Run(
        ReadOnlySpan<float> points, int count, int dimension, int microClusterCount, int groupMaxPoints, int seed, int maxDegreeOfParallelism, string reason,
        ICentreAssignment? assignment)
    {
        Guard.AtLeast(groupMaxPoints, 2, "largest group refined by exact Ward");
        var twoStage = TwoStageWard.Run(points, count, dimension, microClusterCount, seed, maxDegreeOfParallelism, reason, assignment);
        var leafOfPoint = twoStage.LeafOfPoint!;
        var groupOfNode = Groups(twoStage.Tree, leafOfPoint, groupMaxPoints, out var groupCount);
        var members = MembersOfGroups(leafOfPoint, groupOfNode, groupCount);

        var groupTrees = new MergeTree?[groupCount];
        var concurrency = Math.Min(maxDegreeOfParallelism, ConcurrentGroups);
        // Largest groups first so that the threads finish together; each tree depends only on its group, so the result
        // does not depend on the thread count or the order.
        var bySize = Enumerable.Range(0, groupCount).OrderByDescending(g => members[g].Length).ThenBy(g => g).ToArray();
        for (var start = 0; start < bySize.Length; start += concurrency)
        {
            // A batch's points are copied here, so that at most `concurrency` group copies live at once.
            var batch = bySize.AsSpan(start, Math.Min(concurrency, bySize.Length - start)).ToArray();
            var copies = new float[batch.Length][];
            for (var b = 0; b < batch.Length; b++)
            {
                copies[b] = GroupPoints(points, dimension, members[batch[b]]);
            }
            Parallel.For(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, b =>
                groupTrees[batch[b]] = copies[b].Length > dimension ? LinearMemoryWard.Linkage(copies[b], copies[b].Length / dimension, dimension, 1) : null);
        }

        var merges = new UnsortedMerges(count);
        var topOfGroup = new double[groupCount];
        for (var g = 0; g < groupCount; g++)
        {
            topOfGroup[g] = AddGroupMerges(merges, groupTrees[g], members[g]);
        }
        var raised = AddMergesAboveGroups(merges, twoStage.Tree, groupOfNode, members, topOfGroup);
        var largest = members.Max(m => m.Length);
        var note = $"; refined: exact Ward inside {groupCount:N0} {(groupCount == 1 ? "subtree" : "subtrees")} of the two-stage tree (at most {groupMaxPoints:N0} points each"
            + (largest > groupMaxPoints ? $", but one micro-cluster holds {largest:N0}" : "")
            + $"; largest {largest:N0}), Ward above them"
            + (raised > 0 ? $"; {raised:N0} merges above the subtrees were lower than one inside and were raised to it" : "");
        return new ClusterTree(MergeTree.FromUnsorted(merges), null, ClusteringAlgorithm.RefinedTwoStageWard, twoStage.Reason + note);
    }

    /// <summary>
    /// The largest subtrees of the two-stage tree with at most <paramref name="groupMaxPoints"/> points (a leaf, one
    /// micro-cluster, is a group whatever its size): the group of every node of the tree (leaves first, then row r as node
    /// C + r), -1 for the nodes above the groups. O(C).
    /// </summary>
    private static int[] Groups(MergeTree tree, IReadOnlyList<int> leafOfPoint, int groupMaxPoints, out int groupCount)
    {
        var leaves = tree.PointCount;
        var rows = tree.LinkageMatrix;
        var pointsOfNode = new long[2 * leaves - 1];
        foreach (var leaf in leafOfPoint)
        {
            pointsOfNode[leaf]++;
        }
        for (var r = 0; r < rows.Count; r++)
        {
            pointsOfNode[leaves + r] = pointsOfNode[rows[r].Left] + pointsOfNode[rows[r].Right];
        }
        var groupOfNode = new int[2 * leaves - 1];
        groupCount = 0;
        var pending = new Stack<(int Node, int Group)>();
        pending.Push((2 * leaves - 2, -1));
        while (pending.Count > 0)
        {
            var (node, group) = pending.Pop();
            if (group < 0 && (node < leaves || pointsOfNode[node] <= groupMaxPoints))
            {
                group = groupCount++;
            }
            groupOfNode[node] = group;
            if (node < leaves)
            {
                continue;
            }
            // Right first so that the left child's leaves are numbered first (a deterministic, readable order).
            pending.Push((rows[node - leaves].Right, group));
            pending.Push((rows[node - leaves].Left, group));
        }
        return groupOfNode;
    }

    /// <summary>The points of each group, ascending. O(N).</summary>
    private static int[][] MembersOfGroups(IReadOnlyList<int> leafOfPoint, int[] groupOfNode, int groupCount)
    {
        var sizes = new int[groupCount];
        foreach (var leaf in leafOfPoint)
        {
            sizes[groupOfNode[leaf]]++;
        }
        var members = new int[groupCount][];
        for (var g = 0; g < groupCount; g++)
        {
            members[g] = new int[sizes[g]];
        }
        Array.Clear(sizes);
        for (var i = 0; i < leafOfPoint.Count; i++)
        {
            var g = groupOfNode[leafOfPoint[i]];
            members[g][sizes[g]++] = i;
        }
        return members;
    }

    /// <summary>A float copy of one group's points, row-major in member order. O(n D).</summary>
    private static float[] GroupPoints(ReadOnlySpan<float> points, int dimension, int[] members)
    {
        var copy = new float[members.Length * dimension];
        for (var j = 0; j < members.Length; j++)
        {
            points.Slice(members[j] * dimension, dimension).CopyTo(copy.AsSpan(j * dimension, dimension));
        }
        return copy;
    }

    /// <summary>Adds a group's merges, naming clusters by member points; returns the group's top height (0 for one point).</summary>
    private static double AddGroupMerges(UnsortedMerges merges, MergeTree? tree, int[] members)
    {
        if (tree is null)
        {
            return 0;
        }
        var n = members.Length;
        var rows = tree.LinkageMatrix;
        // A cluster of the group's tree is named by one of its points: a leaf by itself, a merge by its left child's.
        var pointOfNode = new int[2 * n - 1];
        for (var j = 0; j < n; j++)
        {
            pointOfNode[j] = members[j];
        }
        var top = 0.0;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            merges.Add(pointOfNode[row.Left], pointOfNode[row.Right], row.Height);
            pointOfNode[n + r] = pointOfNode[row.Left];
            top = Math.Max(top, row.Height);
        }
        return top;
    }

    /// <summary>
    /// The two-stage tree's merges above the groups, each naming its clusters by member points and raised to the highest
    /// merge below it when it is lower; returns how many were raised. These merges are already Ward on the groups' exact
    /// centroids and sizes (the micro-clusters' centroids are their members' means, and Ward is reducible), so they are not
    /// computed again. O(C).
    /// </summary>
    private static int AddMergesAboveGroups(UnsortedMerges merges, MergeTree twoStage, int[] groupOfNode, int[][] members, double[] topOfGroup)
    {
        var leaves = twoStage.PointCount;
        var pointOfNode = new int[2 * leaves - 1];
        var heightOfNode = new double[2 * leaves - 1];
        var raised = 0;
        var rows = twoStage.LinkageMatrix;
        // Rows are in height order, so a merge's children come before it.
        for (var r = 0; r < rows.Count; r++)
        {
            var node = leaves + r;
            if (groupOfNode[node] >= 0)
            {
                continue;
            }
            var row = rows[r];
            foreach (var child in (ReadOnlySpan<int>)[row.Left, row.Right])
            {
                if (groupOfNode[child] is var g and >= 0)
                {
                    // A group's root: named by its first point, at its exact tree's top height.
                    (pointOfNode[child], heightOfNode[child]) = (members[g][0], topOfGroup[g]);
                }
            }
            var below = Math.Max(heightOfNode[row.Left], heightOfNode[row.Right]);
            var height = row.Height;
            if (height < below)
            {
                height = below;
                raised++;
            }
            // Added after every group's merges: where a raised height ties a merge below, the stable sort keeps the child first.
            merges.Add(pointOfNode[row.Left], pointOfNode[row.Right], height);
            (pointOfNode[node], heightOfNode[node]) = (pointOfNode[row.Left], height);
        }
        return raised;
    }
}
