using AnomalyClustering.Testing.Browser;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// The report of a job that found K itself (<c>--clusters auto</c> on the demo's images): the criterion's curve with the
/// chosen K, and re-cutting the merge tree at another K in the page, checked against Core's cut (SciPy's maxclust).
/// </summary>
public sealed class ClusterCountReportBrowserTests(ChromiumFixture chromium, DemoJobFixture demo) : IClassFixture<DemoJobFixture>
{
    [Fact]
    public async Task The_curve_shows_the_chosen_K_and_the_page_recuts_the_tree_like_scipy()
    {
        var product = Directory.GetDirectories(demo.Folder).Single(folder => Directory.Exists(Path.Combine(folder, "test")));
        var output = CliJobs.TemporaryFolder("auto-k");
        CliJobs.Run("cluster", product, "--clusters", "auto", "--out", output);
        var (result, _) = CliJobs.ReadResult(Path.Combine(output, "result.json"));
        var choice = result.ClusterCountChoice!;

        await using var report = await chromium.OpenAsync(Path.Combine(output, ClusterReport.FileName));
        var page = report.Page;
        Assert.Equal(choice.ClusterCount.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#cluster-count-choice").GetAttributeAsync("data-k"));
        Assert.Equal(choice.Curve.Count(score => !double.IsNaN(score.Value)), await page.Locator("#cluster-count-curve .curve-point").CountAsync());
        Assert.Equal(choice.ClusterCount.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#cluster-count-curve .curve-point.chosen").GetAttributeAsync("data-k"));
        Assert.Equal(result.ClusterCount, await page.Locator("#recut-table tbody tr").CountAsync());

        // Another K typed in: the table has that cut's clusters with Core's sizes, and its clusters.csv is Core's partition.
        var k = choice.ClusterCount == 3 ? 4 : 3;
        await page.Locator("#recut-k").FillAsync(k.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator("#recut-k").DispatchEventAsync("change");
        var expected = result.MergeTree.CutToClusters(k);
        var sizes = await page.Locator("#recut-table tbody tr").EvaluateAllAsync<int[]>("rows => rows.map(row => Number(row.cells[1].textContent))");
        Assert.Equal(Enumerable.Range(0, k).Select(c => expected.Count(label => label == c)), sizes);

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#recut-download").ClickAsync());
        var csvPath = Path.Combine(output, "recut.csv");
        await download.SaveAsAsync(csvPath);
        var rows = File.ReadAllLines(csvPath).Skip(1).Select(line => line.Split(',')).ToArray();
        Assert.Equal(result.Images.Select(image => image.Id), rows.Select(row => row[0]));
        Assert.Equal(expected, rows.Select(row => int.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(result.Images.Select(image => image.Label), rows.Select(row => row[2]));

        // A click on the curve cuts there.
        await page.Locator("#cluster-count-curve .curve-point[data-k='2']").ClickAsync();
        Assert.Equal(2, await page.Locator("#recut-table tbody tr").CountAsync());
        Assert.Equal("2", await page.Locator("#recut-k").InputValueAsync());
        await report.ScreenshotAsync("report-auto-k.png");
        Assert.Empty(report.Errors);
    }
}
