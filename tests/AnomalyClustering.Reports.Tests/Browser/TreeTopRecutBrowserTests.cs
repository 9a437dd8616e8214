using System.Globalization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing.Browser;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// Past the page's image list limit (a served report of a large job, rendered from result.json and report-digest.json
/// alone) the page still re-cuts the tree: the top of the tree over the subtrees it joins, whose sizes and label counts
/// the digest keeps. The table must be the whole tree's cut, per cluster, as Core cuts it per image.
/// </summary>
public sealed class TreeTopRecutBrowserTests(ChromiumFixture chromium)
{
    private static readonly ResultSource Source = new("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());

    [Fact]
    public async Task The_page_recuts_the_tree_top_of_a_result_it_does_not_list_like_the_whole_tree()
    {
        // Two-stage Ward (a tree over micro-clusters) on more points than micro-clusters, three labels across four blobs.
        var random = new Random(17);
        const int count = TwoStageWard.DefaultMicroClusterCount + 900;
        var points = Enumerable.Range(0, count * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 4 * 3))).ToArray();
        var ids = Enumerable.Range(0, count).Select(i => $"img{i:D5}.png").ToArray();
        string[] kinds = ["good", "crack", "hole"];
        var labels = Enumerable.Range(0, count).Select(i => kinds[(i % 4 + (i % 11 == 0 ? 1 : 0)) % kinds.Length]).ToArray();
        var result = EmbeddingClustering.Run(
            points, count, 2, ids, labels, new ClusteringJobOptions { ClusterCount = 4, Algorithm = ClusteringAlgorithm.TwoStageWard });
        Assert.NotNull(result.LeafOfImage);

        var output = CliJobs.TemporaryFolder("tree-top-recut");
        var folder = Directory.CreateDirectory(Path.Combine(output, "result")).FullName;
        ResultFolder.Write(folder, result, Source);
        ReportDigest digest;
        await using (var stream = File.OpenRead(Path.Combine(folder, ReportDigest.FileName)))
        {
            digest = ReportDigest.Read(stream);
        }
        ClusteringResult fromDigest;
        await using (var summary = File.OpenRead(Path.Combine(folder, ResultFolder.SummaryFileName)))
        {
            (fromDigest, _) = ResultFolder.ReadForReport(summary, digest);
        }
        var htmlPath = Path.Combine(output, ClusterReport.FileName);
        await using (var page = File.Create(htmlPath))
        {
            var options = new ReportOptions { MaxImagesPerCluster = 10, FullImageListUpTo = 1_000 };
            await ClusterReport.WriteAsync(
                new ClusterReportInput(fromDigest, Source, new NoImages(), new NoThumbnails()) { Options = options, Digest = digest }, page, TestContext.Current.CancellationToken);
        }

        await using var report = await chromium.OpenAsync(htmlPath);
        Assert.Equal(1, await report.Page.Locator("#recut-top").CountAsync());
        Assert.Equal(0, await report.Page.Locator("#recut-download").CountAsync());
        Assert.Equal("4", await report.Page.Locator("#recut-k").InputValueAsync());
        await AssertTableIsTheCutAsync(report.Page, result, 4);
        foreach (var k in new[] { 2, 7, 30 })
        {
            await report.Page.Locator("#recut-k").FillAsync(k.ToString(CultureInfo.InvariantCulture));
            await report.Page.Locator("#recut-k").DispatchEventAsync("change");
            await AssertTableIsTheCutAsync(report.Page, result, k);
        }
        Assert.Empty(report.Errors);
    }

    // The table's rows: cluster c of Core's per-image cut at K, its size and its label counts (most frequent first).
    private static async Task AssertTableIsTheCutAsync(Microsoft.Playwright.IPage page, ClusteringResult result, int k)
    {
        var cut = result.ClusterTree.CutToClusters(k);
        var rows = await page.Locator("#recut-table tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))");
        Assert.Equal(k, rows.Length);
        for (var c = 0; c < k; c++)
        {
            var members = Enumerable.Range(0, cut.Length).Where(i => cut[i] == c).ToArray();
            var labels = members.GroupBy(i => result.Images[i].Label!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key} {g.Count()}");
            Assert.Equal([c.ToString(CultureInfo.InvariantCulture), members.Length.ToString(CultureInfo.InvariantCulture), string.Join(", ", labels)], rows[c]);
        }
    }
}
