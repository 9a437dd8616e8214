using System.Text.Json.Nodes;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>result.json round trips: image embeddings and cluster names, and documents written before they were recorded.</summary>
public sealed class ClusteringResultJsonTests
{
    private static readonly ResultSource Source = new("vectors", "/data/vectors.npy", null, null, null, new Dictionary<string, int>());

    [Fact]
    public void EmbeddingsAndNamesRoundTripExactly()
    {
        var result = Clustered() with { Names = ClusterNames.Empty.With(1, "stain") };
        Assert.All(result.Images, image => Assert.Equal(3, image.Embedding!.Length));

        var (read, _) = RoundTrip(result);

        Assert.Equal(result.Images.Select(i => i.Embedding), read.Images.Select(i => i.Embedding));
        Assert.Equal(result.Images.Select(i => i.Cluster), read.Images.Select(i => i.Cluster));
        Assert.Equal("stain", read.Names.NameOf(1));
        Assert.Equal(1, read.Names.Count);
    }

    [Fact]
    public void TheEmbeddingsAreTheRowsThatWereClustered()
    {
        float[] points = [0.1f, 1e-7f, 3.25f, 4, 5, 6, 7.5f, 8, 9.125f, 10, 11, 12];
        var result = EmbeddingClustering.Run(points, 4, 3, ["a", "b", "c", "d"], null, new ClusteringJobOptions { ClusterCount = 2 });
        Assert.Equal(points.Chunk(3), result.Images.Select(i => i.Embedding!));
    }

    [Fact]
    public void DocumentsWithoutEmbeddingsOrNamesStillRead()
    {
        using var buffer = new MemoryStream();
        ClusteringResultJson.Write(buffer, Clustered() with { Names = ClusterNames.Empty.With(0, "x") }, Source);
        var document = JsonNode.Parse(buffer.ToArray())!.AsObject();
        document.Remove("clusterNames");
        foreach (var image in document["images"]!.AsArray())
        {
            image!.AsObject().Remove("embedding");
        }

        var (read, _) = ClusteringResultJson.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(document.ToJsonString())));

        Assert.All(read.Images, image => Assert.Null(image.Embedding));
        Assert.Same(ClusterNames.Empty, read.Names);
    }

    [Fact]
    public void InvalidNamesMakeTheDocumentUnreadable()
    {
        using var buffer = new MemoryStream();
        ClusteringResultJson.Write(buffer, Clustered(), Source);
        var document = JsonNode.Parse(buffer.ToArray())!.AsObject();
        document["clusterNames"] = new JsonObject { ["zero"] = "crack" };
        Assert.Throws<InvalidDataException>(() => ClusteringResultJson.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(document.ToJsonString()))));
    }

    [Fact]
    public void TheAlgorithmAndTwoStageLeavesRoundTrip()
    {
        var random = new Random(9);
        var points = Enumerable.Range(0, 300 * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 3) * 4)).ToArray();
        var ids = Enumerable.Range(0, 300).Select(i => $"img{i}").ToArray();
        var result = EmbeddingClustering.Run(points, 300, 2, ids, null, new ClusteringJobOptions { ClusterCount = 3, Algorithm = ClusteringAlgorithm.TwoStageWard });
        var (read, _) = RoundTrip(result);
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, read.Algorithm);
        Assert.Equal("requested", read.AlgorithmReason);
        Assert.Equal(result.LeafOfImage, read.LeafOfImage);
        Assert.Equal(result.MergeTree.LinkageMatrix, read.MergeTree.LinkageMatrix);
        Assert.Equal(result.Images.Select(i => i.Cluster), read.ClusterTree.CutToClusters(3));

        var (plain, _) = RoundTrip(Clustered());
        Assert.Equal(ClusteringAlgorithm.DistanceMatrix, plain.Algorithm);
        Assert.Null(plain.LeafOfImage);
    }

    private static ClusteringResult Clustered()
    {
        float[] points = [0, 0, 0.5f, 0.1f, 0.2f, 0.3f, 5, 5, 5.1f, 5.2f, 5, 4.9f, 9.75f, 1e-8f, 3];
        return EmbeddingClustering.Run(points, 5, 3, ["a", "b", "c", "d", "e"], null, new ClusteringJobOptions { ClusterCount = 2 });
    }

    private static (ClusteringResult, ResultSource) RoundTrip(ClusteringResult result)
    {
        using var buffer = new MemoryStream();
        ClusteringResultJson.Write(buffer, result, Source);
        buffer.Position = 0;
        return ClusteringResultJson.Read(buffer);
    }
}
