using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Detect, then cluster: the good group is one leaf joined last, so a cut into K is the group plus the others' own tree cut into K - 1.</summary>
public class DetectedGoodTreeTests
{
    private static float[] RandomPoints(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * dimension).Select(_ => (float)(random.NextDouble() * 10)).ToArray();
    }

    private static (ClusterTree Tree, float[] Others) Defects(float[] points, bool[] isGood, int dimension, bool twoStage)
    {
        var others = Enumerable.Range(0, isGood.Length).Where(i => !isGood[i])
            .SelectMany(i => points.AsSpan(i * dimension, dimension).ToArray()).ToArray();
        var count = others.Length / dimension;
        var tree = twoStage
            ? TwoStageWard.Run(others, count, dimension, 12, seed: 1, maxDegreeOfParallelism: 1, "two-stage")
            : new ClusterTree(HierarchicalClustering.Linkage(others, count, dimension, LinkageMethod.Ward), null, ClusteringAlgorithm.DistanceMatrix, "matrix");
        return (tree, others);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACutIntoKIsTheGoodGroupAndTheOthersCutIntoKMinusOne(bool twoStage)
    {
        const int count = 60, dimension = 5;
        var points = RandomPoints(count, dimension, seed: 2);
        var isGood = Enumerable.Range(0, count).Select(i => i % 3 == 0).ToArray();
        var (defects, _) = Defects(points, isGood, dimension, twoStage);

        var tree = DetectedGoodTree.Compose(defects, isGood, points, dimension, "composed");

        Assert.Equal(count, tree.PointCount);
        Assert.Equal(defects.Tree.PointCount + 1, tree.Tree.PointCount);
        Assert.Equal(defects.Algorithm, tree.Algorithm);
        Assert.Equal("composed", tree.Reason);
        var heights = tree.Tree.LinkageMatrix.Select(step => step.Height).ToArray();
        Assert.True(heights[^1] > heights[^2], $"the last merge ({heights[^1]}) must be above every other ({heights[^2]})");
        var otherIndices = Enumerable.Range(0, count).Where(i => !isGood[i]).ToArray();
        foreach (var k in new[] { 2, 3, 5, 8 })
        {
            var labels = tree.CutToClusters(k);
            Assert.Equal(k, labels.Max() + 1);
            var goodLabel = labels[0];
            Assert.All(Enumerable.Range(0, count), i => Assert.Equal(isGood[i], labels[i] == goodLabel));
            var expected = defects.CutToClusters(k - 1);
            var actual = otherIndices.Select(i => labels[i]).ToArray();
            Assert.Equal(1.0, ClusteringMetrics.Evaluate(expected, actual).AdjustedRandIndex, 12);
        }
    }

    [Fact]
    public void TheLastMergeIsWardsDistanceBetweenTheTwoGroupsWhenThatIsHighest()
    {
        // Two tight groups far apart: Ward's distance between them is far above any merge inside the others.
        const int dimension = 2;
        float[] points = [0, 0, 0.1f, 0, 100, 100, 100.1f, 100, 100, 100.1f];
        bool[] isGood = [true, true, false, false, false];
        var (defects, _) = Defects(points, isGood, dimension, twoStage: false);

        var tree = DetectedGoodTree.Compose(defects, isGood, points, dimension, "r");

        // Centroids (0.05, 0) and (100.0333, 100.0333); sqrt(2 * 2 * 3 / 5) times their distance.
        var dx = 100.0 + (0.1 / 3) - 0.05;
        var dy = 100.0 + (0.1 / 3);
        var expected = Math.Sqrt(2.0 * 2 * 3 / 5 * ((dx * dx) + (dy * dy)));
        Assert.Equal(expected, tree.Tree.LinkageMatrix[^1].Height, 4);
        Assert.Equal([0, 0, 1, 2, 3], tree.LeafOfPoint);
    }

    [Fact]
    public void OneImageAboveTheThresholdIsALeafOfItsOwn()
    {
        float[] points = [0, 1, 2, 9];
        var tree = DetectedGoodTree.Compose(null, [true, true, true, false], points, 1, "one");
        Assert.Equal(2, tree.Tree.PointCount);
        Assert.Equal([0, 0, 0, 1], tree.CutToClusters(2));
    }

    [Fact]
    public void BothGroupsMustBeThereAndTheTreeMustMatchTheOthers()
    {
        float[] points = [0, 1, 2, 9];
        Assert.Throws<InvalidClusteringInputException>(() => DetectedGoodTree.Compose(null, [true, true, true, true], points, 1, "r"));
        Assert.Throws<InvalidClusteringInputException>(() => DetectedGoodTree.Compose(null, [false, false, false, false], points, 1, "r"));
        Assert.Throws<InvalidClusteringInputException>(() => DetectedGoodTree.Compose(null, [true, true, false, false], points, 1, "r"));
        var (three, _) = Defects(points, [false, false, false, true], 1, twoStage: false);
        Assert.Throws<InvalidClusteringInputException>(() => DetectedGoodTree.Compose(three, [true, true, false, false], points, 1, "r"));
    }
}
