using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>Detect, then cluster in the clustering step: the group under the threshold, the reasons when it cannot apply, and result.json.</summary>
public sealed class DetectThenClusterTests
{
    // Three pairs on a line; the scores call the first pair good at threshold 1.
    private static readonly float[] Points = [0, 0.1f, 5, 5.2f, 9, 9.3f];
    private static readonly string[] Ids = ["a", "b", "c", "d", "e", "f"];
    private static readonly double[] Scores = [0.5, 1.0, 3, 4, 5, 6];
    private static readonly ClusteringJobOptions Options = new() { Mode = ClusteringMode.SemiSupervised, DetectThenCluster = true, ClusterCount = 3 };

    [Fact]
    public void TheImagesAtOrUnderTheThresholdAreOneClusterAndTheOthersAreWardsKMinusOne()
    {
        var result = EmbeddingClustering.Run(Points, 6, 1, Ids, null, Options, null, null, Scores, anomalyThreshold: 1.0);

        Assert.Equal(new DetectedGoodGroup(2, 0), result.DetectedGood);
        Assert.Equal(1.0, result.AnomalyThreshold);
        var others = HierarchicalClustering.Linkage(Points.AsSpan(2), 4, 1, LinkageMethod.Ward).CutToClusters(2);
        Assert.Equal([0, 0, .. others.Select(label => label + 1)], result.Images.Select(image => image.Cluster));
        Assert.Equal([0, 0, 1, 2, 3, 4], result.LeafOfImage);
        Assert.Contains("detect-then-cluster: 2 images at or under the detection threshold 1 form one cluster, the tree is over the other 4", result.AlgorithmReason);

        using var buffer = new MemoryStream();
        ClusteringResultJson.Write(buffer, result, new ResultSource("vectors", "x.npy", null, null, null, new Dictionary<string, int>()));
        buffer.Position = 0;
        var (read, _) = ClusteringResultJson.Read(buffer);
        Assert.Equal(result.DetectedGood, read.DetectedGood);
        Assert.True(read.Options.DetectThenCluster);
        Assert.Equal(result.LeafOfImage, read.LeafOfImage);
        Assert.Equal(result.Images.Select(image => image.Cluster), read.ClusterTree.CutToClusters(3));
    }

    [Fact]
    public void WithoutAThresholdOrWithEveryImageOnOneSideEveryImageIsClusteredAndTheReasonSaysWhy()
    {
        var plain = EmbeddingClustering.Run(Points, 6, 1, Ids, null, Options with { DetectThenCluster = false }, null, null);
        foreach (var (threshold, why) in new (double?, string)[]
        {
            (null, "no detection threshold"), (10.0, "every image scored at or under the threshold 10"), (0.1, "every image scored above the threshold 0.1"),
        })
        {
            var result = EmbeddingClustering.Run(Points, 6, 1, Ids, null, Options, null, null, Scores, threshold);
            Assert.Null(result.DetectedGood);
            Assert.Equal(plain.Images.Select(image => image.Cluster), result.Images.Select(image => image.Cluster));
            Assert.Contains("detect-then-cluster was asked for but not applied", result.AlgorithmReason);
            Assert.Contains(why, result.AlgorithmReason);
        }
    }

    [Fact]
    public void TooManyClustersForTheImagesAboveTheThresholdAndOtherModesAreRefused()
    {
        var tooMany = Assert.Throws<InvalidClusteringInputException>(
            () => EmbeddingClustering.Run(Points, 6, 1, Ids, null, Options with { ClusterCount = 6 }, null, null, Scores, anomalyThreshold: 1.0));
        Assert.Contains("ask for at most 5 clusters", tooMany.Message);
        var unsupervised = Assert.Throws<InvalidClusteringInputException>(() => (Options with { Mode = ClusteringMode.Unsupervised }).Validate());
        Assert.Contains("semi-supervised", unsupervised.Message);
    }
}
