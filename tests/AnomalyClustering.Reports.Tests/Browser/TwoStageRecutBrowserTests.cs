using System.Globalization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Thumbnails;
using AnomalyClustering.Testing.Browser;
using Page = AnomalyClustering.Reports.Page;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// The in-page re-cut of a two-stage Ward result, whose merge tree is over micro-clusters, not images: the page must give
/// each image its micro-cluster's cluster (numbered by first image, as ClusterTree does), not pair leaf i with image i.
/// </summary>
public sealed class TwoStageRecutBrowserTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task The_page_recuts_a_two_stage_tree_per_image_like_the_result()
    {
        var random = new Random(11);
        // More images than TwoStageWard.DefaultMicroClusterCount, so that the tree has fewer leaves than images.
        const int count = TwoStageWard.DefaultMicroClusterCount + 500;
        var points = Enumerable.Range(0, count * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 3 * 4))).ToArray();
        var ids = Enumerable.Range(0, count).Select(i => $"img{i}").ToArray();
        var result = EmbeddingClustering.Run(
            points, count, 2, ids, null, new ClusteringJobOptions { AutomaticClusterCount = true, Algorithm = ClusteringAlgorithm.TwoStageWard });
        Assert.NotNull(result.LeafOfImage);
        Assert.NotNull(result.ClusterCountChoice);
        Assert.True(result.MergeTree.PointCount < count);

        var source = new ResultSource("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());
        var thumbnails = ids.Select(_ => new ThumbnailLinks(null, null, null)).ToArray();
        var output = CliJobs.TemporaryFolder("two-stage-recut");
        var htmlPath = Path.Combine(output, ClusterReport.FileName);
        await File.WriteAllTextAsync(htmlPath, Page.ReportPage.Render(result, source, thumbnails, new ReportOptions()), TestContext.Current.CancellationToken);

        await using var report = await chromium.OpenAsync(htmlPath);
        var page = report.Page;
        Assert.Equal(result.ClusterCount.ToString(CultureInfo.InvariantCulture), await page.Locator("#recut-k").InputValueAsync());

        // At the chosen K: every image in the cluster the result gave it, and the table's sizes are the result's.
        Assert.Equal(result.Images.Select(image => image.Cluster), await DownloadedClustersAsync(page, output, "chosen.csv"));
        var sizes = await page.Locator("#recut-table tbody tr").EvaluateAllAsync<int[]>("rows => rows.map(row => Number(row.cells[1].textContent))");
        Assert.Equal(Enumerable.Range(0, result.ClusterCount).Select(c => result.Images.Count(image => image.Cluster == c)), sizes);
        Assert.Equal(count, sizes.Sum());

        // Another K: the tree's own per-image cut.
        var k = result.ClusterCount == 5 ? 6 : 5;
        await page.Locator("#recut-k").FillAsync(k.ToString(CultureInfo.InvariantCulture));
        await page.Locator("#recut-k").DispatchEventAsync("change");
        Assert.Equal(result.ClusterTree.CutToClusters(k), await DownloadedClustersAsync(page, output, "other.csv"));
        Assert.Empty(report.Errors);
    }

    private static async Task<int[]> DownloadedClustersAsync(Microsoft.Playwright.IPage page, string folder, string name)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#recut-download").ClickAsync());
        var path = Path.Combine(folder, name);
        await download.SaveAsAsync(path);
        return File.ReadAllLines(path).Skip(1).Select(line => int.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
    }
}
