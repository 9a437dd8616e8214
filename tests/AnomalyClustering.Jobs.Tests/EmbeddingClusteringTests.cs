using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Jobs.Tests;

public sealed class EmbeddingClusteringTests
{
    [Fact]
    public void EmbeddingClusteringIsHierarchicalClusteringAndItsCut()
    {
        float[] points = [0, 0, 0.1f, 0, 5, 5, 5.2f, 5, 9, 0, 9, 0.3f];
        var result = EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], null, new ClusteringJobOptions { ClusterCount = 3, Linkage = LinkageMethod.Average });

        var tree = HierarchicalClustering.Linkage(points, 6, 2, LinkageMethod.Average);
        Assert.Equal(tree.LinkageMatrix, result.MergeTree.LinkageMatrix);
        Assert.Equal(tree.CutToClusters(3), result.Images.Select(i => i.Cluster));
        Assert.All(result.Images, i => Assert.Null(i.PatchWeights));

        var byThreshold = EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], null, new ClusteringJobOptions { DistanceThreshold = 1.0 });
        Assert.Equal(tree.CutAtDistance(1.0).Distinct().Count(), byThreshold.ClusterCount);

        Assert.Throws<InvalidClusteringInputException>(() => EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], null, new ClusteringJobOptions()));
    }

    [Fact]
    public void KDefaultsToTheNumberOfLabelClasses()
    {
        float[] points = [0, 0.2f, 4, 4.1f, 8, 8.3f];
        var result = EmbeddingClustering.Run(points, 6, 1, ["a", "b", "c", "d", "e", "f"], ["x", "x", "y", "y", "z", "z"], new ClusteringJobOptions());
        Assert.Equal(3, result.Options.ClusterCount);
        Assert.Equal(["x", "y", "z"], result.ClassNames);
        Assert.Equal(1.0, result.Scores!.NormalizedMutualInformation, 1e-12);
        Assert.Equal([PipelineStage.Cluster], result.Timings.Select(t => t.Stage));
    }

    [Fact]
    public void NonFiniteEmbeddingsAndTooManyClustersAreRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => EmbeddingClustering.Run([0, float.NaN, 1, 2], 4, 1, ["a", "b", "c", "d"], null, new ClusteringJobOptions { ClusterCount = 2 }));
        var error = Assert.Throws<InvalidClusteringInputException>(() => EmbeddingClustering.Run([0, 1, 2], 3, 1, ["a", "b", "c"], null, new ClusteringJobOptions { ClusterCount = 4 }));
        Assert.Contains("4 clusters", error.Message);
    }
}
