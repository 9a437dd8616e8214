using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// Refined two-stage Ward: exact Ward's tree (same merges, heights to rounding) when the two-stage tree's subtrees are
/// clusters of the exact tree; a valid monotone tree over the points otherwise; the same result for any thread count.
/// </summary>
public class RefinedTwoStageWardTests
{
    private static float[] Blobs(int count, int dimension, int blobs, double spread, int seed)
    {
        var random = new Random(seed);
        var centres = new double[blobs * dimension];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = (random.NextDouble() * 2 - 1) * spread;
        }
        var points = new float[count * dimension];
        for (var i = 0; i < count; i++)
        {
            var blob = i % blobs;
            for (var k = 0; k < dimension; k++)
            {
                // Box-Muller normal noise around the centre.
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                points[i * dimension + k] = (float)(centres[blob * dimension + k] + noise);
            }
        }
        return points;
    }

    [Fact]
    public void GivesExactWardsTreeWhenTheGroupsAreClustersOfIt()
    {
        // Eight separated blobs of 500 points, groups of at most 1,200: each group is one or two whole blobs, which are
        // clusters of the exact tree, so the refined tree must be the exact one, low merges inside the blobs included.
        const int count = 4000, dimension = 16;
        var points = Blobs(count, dimension, 8, spread: 20, seed: 5);
        var exact = LinearMemoryWard.Linkage(points, count, dimension, 2);
        var refined = RefinedTwoStageWard.Run(points, count, dimension, 200, groupMaxPoints: 1200, seed: 1, maxDegreeOfParallelism: 2, "test");

        Assert.Equal(ClusteringAlgorithm.RefinedTwoStageWard, refined.Algorithm);
        Assert.Null(refined.LeafOfPoint);
        Assert.Equal(count, refined.Tree.PointCount);
        Assert.Contains("refined: exact Ward inside", refined.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("raised", refined.Reason, StringComparison.Ordinal);
        var groups = int.Parse(refined.Reason.Split("inside ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(groups is >= 4 and <= 8, $"{groups} groups: the test must refine several groups, each at most 1,200 points");
        for (var r = 0; r < count - 1; r++)
        {
            var e = exact.LinkageMatrix[r];
            var t = refined.Tree.LinkageMatrix[r];
            Assert.True((e.Left, e.Right, e.Size) == (t.Left, t.Right, t.Size), $"row {r}: exact {e}, refined {t}");
            Assert.True(Math.Abs(e.Height - t.Height) <= 1e-6 * e.Height, $"row {r}: height {t.Height} against exact {e.Height}");
        }
        // At K = 20, beyond the 8 blobs, plain two-stage Ward splits blobs differently from exact Ward; the refined tree does not.
        Assert.Equal(1.0, ClusteringMetrics.Evaluate(exact.CutToClusters(20), refined.CutToClusters(20)).AdjustedRandIndex, 12);
    }

    [Fact]
    public void OneIsotropicBlobGivesAValidMonotoneTreeOverThePoints()
    {
        // Groups cut from one blob are not clusters of the exact tree: the result is approximate, but still a tree over
        // every point whose heights never decrease, cut at any K up to N.
        const int count = 3000, dimension = 8;
        var points = Blobs(count, dimension, 1, spread: 0, seed: 6);
        var refined = RefinedTwoStageWard.Run(points, count, dimension, 100, groupMaxPoints: 400, seed: 2, maxDegreeOfParallelism: 2, "test");
        var rows = refined.Tree.LinkageMatrix;
        Assert.Equal(count, rows[^1].Size);
        for (var r = 1; r < rows.Count; r++)
        {
            Assert.True(rows[r].Height >= rows[r - 1].Height, $"row {r} is lower than row {r - 1}");
        }
        Assert.Equal(150, refined.CutToClusters(150).Max() + 1);
        Assert.Equal(count, refined.CutToClusters(count).Distinct().Count());
    }

    [Fact]
    public void IsTheSameForAnyThreadCount()
    {
        const int count = 3000, dimension = 8;
        var points = Blobs(count, dimension, 5, spread: 6, seed: 7);
        var one = RefinedTwoStageWard.Run(points, count, dimension, 100, groupMaxPoints: 500, seed: 3, maxDegreeOfParallelism: 1, "a");
        var three = RefinedTwoStageWard.Run(points, count, dimension, 100, groupMaxPoints: 500, seed: 3, maxDegreeOfParallelism: 3, "a");
        Assert.Equal(one.Tree.LinkageMatrix, three.Tree.LinkageMatrix);
        Assert.Equal(one.Reason, three.Reason);
    }

    [Fact]
    public void AGroupOfEveryPointIsExactWard()
    {
        const int count = 600, dimension = 4;
        var points = Blobs(count, dimension, 3, spread: 3, seed: 8);
        var refined = RefinedTwoStageWard.Run(points, count, dimension, 50, groupMaxPoints: count, seed: 0, maxDegreeOfParallelism: 1, "test");
        var exact = LinearMemoryWard.Linkage(points, count, dimension, 1);
        Assert.Equal(exact.LinkageMatrix, refined.Tree.LinkageMatrix);
        Assert.Throws<InvalidClusteringInputException>(() => RefinedTwoStageWard.Run(points, count, dimension, 50, groupMaxPoints: 1, seed: 0, maxDegreeOfParallelism: 1, "test"));
    }
}
