using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Finds the number of clusters K from a merge tree and its points without labels (METHOD section 7): cuts the tree at
/// every K of a range (SciPy's maxclust cut), scores each cut with a label-free criterion and keeps the K with the largest
/// score. Cost per K: O(N log N) for the cut plus O(N D) for Calinski-Harabasz or O(S^2) for the silhouette on a seeded
/// sample of S points (whose O(S^2 D) distances are computed once); the height gap needs only the tree.
/// </summary>
public static class ClusterCountSelector
{
    /// <summary>
    /// The K of <paramref name="search"/>'s range, clipped to [2, N - 1], whose cut of <paramref name="tree"/> scores best,
    /// with the curve of scores. <paramref name="points"/> are the N clustered points (row-major, N x D) in tree order.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 3 points, a range beyond N - 1, or mismatched lengths.</exception>
    public static ClusterCountChoice Select(MergeTree tree, ReadOnlySpan<float> points, int dimension, ClusterCountSearch search)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return Select(new ClusterTree(tree, null, ClusteringAlgorithm.DistanceMatrix, string.Empty), points, dimension, search);
    }

    /// <summary>
    /// As <see cref="Select(MergeTree, ReadOnlySpan{float}, int, ClusterCountSearch)"/> for a tree whose leaves may be
    /// micro-clusters (two-stage Ward): each cut labels every point through its leaf; K is clipped to the leaves too.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">As for the other overload.</exception>
    public static ClusterCountChoice Select(ClusterTree tree, ReadOnlySpan<float> points, int dimension, ClusterCountSearch search)
    {
        var curve = Evaluate(tree, points, dimension, search);
        var best = -1;
        for (var i = 0; i < curve.Count; i++)
        {
            // Strictly larger: the smallest K wins a tie. NaN never wins.
            if (!double.IsNaN(curve[i].Value) && (best < 0 || curve[i].Value > curve[best].Value))
            {
                best = i;
            }
        }
        if (best < 0)
        {
            throw new InvalidClusteringInputException(
                $"no cut between {curve[0].ClusterCount} and {curve[^1].ClusterCount} clusters could be scored (ties in the merge heights); give the number of clusters.",
                nameof(tree));
        }
        return new ClusterCountChoice(curve[best].ClusterCount, search.Criterion, curve);
    }

    /// <summary>The criterion's value at every K of the range, ascending K (see <see cref="Select(MergeTree, ReadOnlySpan{float}, int, ClusterCountSearch)"/>).</summary>
    /// <exception cref="InvalidClusteringInputException">As for <see cref="Select(MergeTree, ReadOnlySpan{float}, int, ClusterCountSearch)"/>.</exception>
    public static IReadOnlyList<ClusterCountScore> Evaluate(MergeTree tree, ReadOnlySpan<float> points, int dimension, ClusterCountSearch search)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return Evaluate(new ClusterTree(tree, null, ClusteringAlgorithm.DistanceMatrix, string.Empty), points, dimension, search);
    }

    /// <summary>The criterion's value at every K of the range for a tree whose leaves may be micro-clusters.</summary>
    /// <exception cref="InvalidClusteringInputException">As for <see cref="Select(MergeTree, ReadOnlySpan{float}, int, ClusterCountSearch)"/>.</exception>
    public static IReadOnlyList<ClusterCountScore> Evaluate(ClusterTree tree, ReadOnlySpan<float> points, int dimension, ClusterCountSearch search)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(search);
        search.Validate();
        var count = tree.PointCount;
        var leaves = tree.Tree.PointCount;
        if (search.Criterion != ClusterCountCriterion.HeightGap)
        {
            Guard.AtLeast(dimension, 1, "dimension");
            Guard.Length(points.Length, count * dimension, "points (N x D)");
        }
        if (count < 3)
        {
            throw new InvalidClusteringInputException($"finding the number of clusters needs at least 3 points; got {count}. Give the number of clusters.", nameof(tree));
        }
        var maximum = Math.Min(search.MaximumClusterCount, Math.Min(count, leaves) - 1);
        if (search.MinimumClusterCount > maximum)
        {
            throw new InvalidClusteringInputException(
                $"the automatic cluster range starts at {search.MinimumClusterCount}, but {count} points allow at most {count - 1} clusters.", nameof(search));
        }

        var silhouette = search.Criterion == ClusterCountCriterion.Silhouette ? SilhouetteSample.Draw(points, count, dimension, search) : null;
        var curve = new ClusterCountScore[maximum - search.MinimumClusterCount + 1];
        for (var k = search.MinimumClusterCount; k <= maximum; k++)
        {
            double value;
            if (search.Criterion == ClusterCountCriterion.HeightGap)
            {
                value = HeightGap(tree.Tree, k);
            }
            else
            {
                var labels = tree.CutToClusters(k);
                // Ties at the cut height can leave fewer than K clusters: that K is not a cut of its own.
                if (labels.Max() + 1 != k)
                {
                    value = double.NaN;
                }
                else
                {
                    value = silhouette is null
                        ? InternalClusteringScores.CalinskiHarabasz(points, dimension, labels)
                        : silhouette.Score(labels);
                }
            }
            curve[k - search.MinimumClusterCount] = new ClusterCountScore(k, value);
        }
        return curve;
    }

    /// <summary>(h_next - h_last) / h_next: h_last the merge that leaves K clusters, h_next the one that would leave K - 1; 0 when both are 0.</summary>
    private static double HeightGap(MergeTree tree, int clusterCount)
    {
        var rows = tree.LinkageMatrix;
        var last = rows[tree.PointCount - clusterCount - 1].Height;
        var next = rows[tree.PointCount - clusterCount].Height;
        return next <= 0 ? 0 : (next - last) / next;
    }

    /// <summary>A seeded sample of the points with its distance matrix, scored for each labeling of all points.</summary>
    private sealed class SilhouetteSample
    {
        private readonly int[] _indices;
        private readonly CondensedDistanceMatrix _distances;

        private SilhouetteSample(int[] indices, CondensedDistanceMatrix distances)
        {
            _indices = indices;
            _distances = distances;
        }

        public static SilhouetteSample Draw(ReadOnlySpan<float> points, int count, int dimension, ClusterCountSearch search)
        {
            var indices = count <= search.SilhouetteSampleSize
                ? Enumerable.Range(0, count).ToArray()
                : ReferenceSample.Draw(count, search.SilhouetteSampleSize, unchecked((ulong)search.Seed)).Pool.Take(search.SilhouetteSampleSize).Order().ToArray();
            var sample = new float[indices.Length * dimension];
            for (var i = 0; i < indices.Length; i++)
            {
                points.Slice(indices[i] * dimension, dimension).CopyTo(sample.AsSpan(i * dimension, dimension));
            }
            return new SilhouetteSample(indices, CondensedDistanceMatrix.FromPoints(sample, indices.Length, dimension));
        }

        /// <summary>scikit-learn's silhouette_score of the sample with its labels renumbered; NaN when the sample holds fewer than 2 or more than S - 1 clusters.</summary>
        public double Score(int[] labels)
        {
            var renumbered = new int[_indices.Length];
            var code = new Dictionary<int, int>();
            for (var i = 0; i < _indices.Length; i++)
            {
                var label = labels[_indices[i]];
                if (!code.TryGetValue(label, out var c))
                {
                    c = code.Count;
                    code.Add(label, c);
                }
                renumbered[i] = c;
            }
            return code.Count < 2 || code.Count > _indices.Length - 1 ? double.NaN : InternalClusteringScores.Silhouette(_distances, renumbered);
        }
    }
}
