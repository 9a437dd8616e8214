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
    }

    [Fact]
    public void WithoutLabelsKOrThresholdKIsFoundAndTheChoiceSurvivesResultJson()
    {
        float[] points = [0, 0, 0.1f, 0, 5, 5, 5.2f, 5, 9, 0, 9, 0.3f];
        string[] ids = ["a", "b", "c", "d", "e", "f"];
        var result = EmbeddingClustering.Run(points, 6, 2, ids, null, new ClusteringJobOptions());

        var expected = ClusterCountSelector.Select(HierarchicalClustering.Linkage(points, 6, 2, LinkageMethod.Ward), points, 2, new ClusterCountSearch());
        Assert.Equal(3, expected.ClusterCount);
        Assert.Equal(expected.Curve, result.ClusterCountChoice!.Curve);
        Assert.Equal(3, result.ClusterCount);
        Assert.True(result.Options.AutomaticClusterCount);
        Assert.Null(result.Options.ClusterCount);

        using var stream = new MemoryStream();
        ClusteringResultJson.Write(stream, result, new ResultSource("vectors", "x.npy", null, null, null, new Dictionary<string, int>()));
        stream.Position = 0;
        var (read, _) = ClusteringResultJson.Read(stream);
        Assert.Equal(result.ClusterCountChoice.ClusterCount, read.ClusterCountChoice!.ClusterCount);
        Assert.Equal(result.ClusterCountChoice.Curve, read.ClusterCountChoice.Curve);
        Assert.Equal(result.Options, read.Options);

        // Asked for explicitly, K is found even with labels; with labels and nothing asked, K is the number of classes.
        string[] labels = ["x", "x", "y", "y", "y", "y"];
        Assert.NotNull(EmbeddingClustering.Run(points, 6, 2, ids, labels, new ClusteringJobOptions { AutomaticClusterCount = true }).ClusterCountChoice);
        Assert.Null(EmbeddingClustering.Run(points, 6, 2, ids, labels, new ClusteringJobOptions()).ClusterCountChoice);
        Assert.Throws<InvalidClusteringInputException>(() => EmbeddingClustering.Run([0, 1], 2, 1, ["a", "b"], null, new ClusteringJobOptions()));
        Assert.Throws<InvalidClusteringInputException>(() => new ClusteringJobOptions { AutomaticClusterCount = true, ClusterCount = 3 }.Validate());
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

    [Fact]
    public void TheAlgorithmFollowsTheMemoryBudgetAndIsRecorded()
    {
        var random = new Random(2);
        var points = Enumerable.Range(0, 400 * 3).Select(i => (float)(random.NextDouble() + (i / 3 % 4) * 5)).ToArray();
        var ids = Enumerable.Range(0, 400).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var matrix = EmbeddingClustering.Run(points, 400, 3, ids, null, new ClusteringJobOptions { ClusterCount = 4 });
        Assert.Equal(ClusteringAlgorithm.DistanceMatrix, matrix.Algorithm);
        Assert.Contains("within the 2 GiB budget", matrix.AlgorithmReason, StringComparison.Ordinal);

        // The 400 x 400 matrix needs 638,400 bytes: a 1 MiB budget holds it, so force the linear-memory path by name
        // and check that it gives the matrix's tree; then a forced two-stage run keeps every image on a leaf.
        var linear = EmbeddingClustering.Run(points, 400, 3, ids, null, new ClusteringJobOptions { ClusterCount = 4, Algorithm = ClusteringAlgorithm.LinearMemoryWard });
        Assert.Equal(ClusteringAlgorithm.LinearMemoryWard, linear.Algorithm);
        Assert.Equal(matrix.MergeTree.LinkageMatrix.Select(s => (s.Left, s.Right, s.Size)), linear.MergeTree.LinkageMatrix.Select(s => (s.Left, s.Right, s.Size)));
        Assert.Equal(matrix.Images.Select(i => i.Cluster), linear.Images.Select(i => i.Cluster));
        Assert.Null(linear.LeafOfImage);

        var twoStage = EmbeddingClustering.Run(points, 400, 3, ids, null, new ClusteringJobOptions { ClusterCount = 4, Algorithm = ClusteringAlgorithm.TwoStageWard });
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, twoStage.Algorithm);
        Assert.Equal(400, twoStage.LeafOfImage!.Count);
        Assert.Equal(matrix.Images.Select(i => i.Cluster), twoStage.Images.Select(i => i.Cluster));
        Assert.Equal(twoStage.Images.Select(i => i.Cluster), twoStage.ClusterTree.CutToClusters(4));
    }

    [Fact]
    public void NonWardLinkagePastTheBudgetIsRefusedAndTwoStageNeedsWard()
    {
        var points = new float[2000 * 2];
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = i % 97;
        }
        var ids = Enumerable.Range(0, 2000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var error = Assert.Throws<InvalidClusteringInputException>(() => EmbeddingClustering.Run(points, 2000, 2, ids, null,
            new ClusteringJobOptions { ClusterCount = 3, Linkage = LinkageMethod.Complete, ClusteringMemoryBudgetBytes = 1L << 20 }));
        Assert.Contains("complete linkage needs the N x N distance matrix", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidClusteringInputException>(() => new ClusteringJobOptions { Linkage = LinkageMethod.Average, Algorithm = ClusteringAlgorithm.TwoStageWard }.Validate());
    }
}
