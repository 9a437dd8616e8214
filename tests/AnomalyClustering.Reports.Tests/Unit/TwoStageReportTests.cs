using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Page;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>A two-stage result (tree over micro-clusters, not images) renders, dendrogram included.</summary>
public sealed class TwoStageReportTests
{
    [Fact]
    public void ATwoStageResultRendersItsDendrogram()
    {
        var random = new Random(11);
        var points = Enumerable.Range(0, 200 * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 3) * 4)).ToArray();
        var ids = Enumerable.Range(0, 200).Select(i => $"img{i}").ToArray();
        var result = EmbeddingClustering.Run(points, 200, 2, ids, null, new ClusteringJobOptions { ClusterCount = 3, Algorithm = ClusteringAlgorithm.TwoStageWard });
        Assert.NotNull(result.LeafOfImage);
        var source = new ResultSource("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());
        var thumbnails = ids.Select(_ => new ThumbnailLinks(null, null, null)).ToArray();
        var html = ReportPage.Render(result, source, thumbnails, new ReportOptions());
        Assert.Contains("id=\"dendrogram\"", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
    }
}
