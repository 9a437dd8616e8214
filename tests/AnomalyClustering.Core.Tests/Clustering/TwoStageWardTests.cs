using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Two-stage Ward: a real tree over micro-clusters, every point on a leaf, and exact Ward's clusters on separated data.</summary>
public class TwoStageWardTests
{
    private static (float[] Points, int[] Truth) Mixture(int count, int dimension, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = new double[clusters * dimension];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = random.NextDouble() * 40 - 20;
        }
        var points = new float[count * dimension];
        var truth = new int[count];
        for (var i = 0; i < count; i++)
        {
            truth[i] = random.Next(clusters);
            for (var k = 0; k < dimension; k++)
            {
                // Box-Muller normal noise around the centre.
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                points[i * dimension + k] = (float)(centres[truth[i] * dimension + k] + noise);
            }
        }
        return (points, truth);
    }

    [Fact]
    public void AgreesWithExactWardOnASeparatedMixture()
    {
        var (points, truth) = Mixture(6000, 16, 8, seed: 3);
        var exact = LinearMemoryWard.Linkage(points, 6000, 16, 2);
        var twoStage = TwoStageWard.Run(points, 6000, 16, 300, seed: 1, maxDegreeOfParallelism: 2, "test");
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, twoStage.Algorithm);
        Assert.Equal(6000, twoStage.PointCount);
        Assert.True(twoStage.Tree.PointCount is > 8 and <= 300, $"{twoStage.Tree.PointCount} leaves");
        Assert.Equal(twoStage.Tree.PointCount, twoStage.Tree.LinkageMatrix[^1].Size);
        var exactLabels = exact.CutToClusters(8);
        var twoStageLabels = twoStage.CutToClusters(8);
        Assert.Equal(8, twoStageLabels.Max() + 1);
        var agreement = ClusteringMetrics.Evaluate(exactLabels, twoStageLabels);
        Assert.True(agreement.AdjustedRandIndex >= 0.99, $"ARI with exact Ward {agreement.AdjustedRandIndex}");
        var truthAgreement = ClusteringMetrics.Evaluate(truth, twoStageLabels);
        Assert.True(truthAgreement.AdjustedRandIndex >= 0.99, $"ARI with the true blobs {truthAgreement.AdjustedRandIndex}");
    }

    [Fact]
    public void IsDeterministicForASeedAndThreadCount()
    {
        var (points, _) = Mixture(3000, 8, 5, seed: 4);
        var one = TwoStageWard.Run(points, 3000, 8, 100, seed: 7, maxDegreeOfParallelism: 1, "a");
        var two = TwoStageWard.Run(points, 3000, 8, 100, seed: 7, maxDegreeOfParallelism: 2, "b");
        Assert.Equal(one.LeafOfPoint, two.LeafOfPoint);
        Assert.Equal(one.Tree.LinkageMatrix, two.Tree.LinkageMatrix);
    }

    [Fact]
    public void CutsBeyondTheLeavesAndIdenticalPointsAreRefused()
    {
        var (points, _) = Mixture(500, 4, 3, seed: 5);
        var tree = TwoStageWard.Run(points, 500, 4, 20, seed: 0, maxDegreeOfParallelism: 1, "test");
        var error = Assert.Throws<InvalidClusteringInputException>(() => tree.CutToClusters(tree.Tree.PointCount + 1));
        Assert.Contains("micro-clusters", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidClusteringInputException>(() => TwoStageWard.Run(new float[40], 10, 4, 5, 0, 1, "test"));
    }
}
