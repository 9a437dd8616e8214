using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Page;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The "Number of clusters" section says where K came from: given, or from a distance-threshold cut.</summary>
public sealed class ClusterCountSectionTests
{
    [Fact]
    public void A_distance_threshold_cut_is_named_as_such_and_a_given_K_as_given()
    {
        var byThreshold = Render(new ClusteringJobOptions { DistanceThreshold = 5 });
        Assert.Contains("The tree was cut at distance 5, which gives K = ", byThreshold, StringComparison.Ordinal);
        Assert.DoesNotContain("was given", byThreshold, StringComparison.Ordinal);

        var byK = Render(new ClusteringJobOptions { ClusterCount = 3 });
        Assert.Contains("K = 3 was given (or taken from the labels).", byK, StringComparison.Ordinal);
        Assert.DoesNotContain("The tree was cut at distance", byK, StringComparison.Ordinal);
    }

    private static string Render(ClusteringJobOptions options)
    {
        var random = new Random(5);
        const int count = 30;
        var points = Enumerable.Range(0, count * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 3 * 4))).ToArray();
        var ids = Enumerable.Range(0, count).Select(i => $"img{i}").ToArray();
        var result = EmbeddingClustering.Run(points, count, 2, ids, null, options);
        var source = new ResultSource("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());
        return ReportPage.Render(result, source, ids.Select(_ => new ThumbnailLinks(null, null, null)).ToArray(), new ReportOptions());
    }
}
