using System.Globalization;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing.Browser;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// <c>line report</c> of a line fed through the CLI (embedded silo, local store): the page shows every logged decision in
/// its chart and table, the newest images of each defect type with heat maps, the novel pool and the errors, with no
/// script error; bad windows and unknown lines are one-line errors.
/// </summary>
public sealed class LineReportBrowserTests(ChromiumFixture chromium)
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--mode", "average"];

    [Fact]
    public async Task The_report_shows_each_logged_decision_the_newest_images_with_heat_maps_and_the_novel_pool()
    {
        var folder = CliJobs.TemporaryFolder("line-report");
        var images = Path.Combine(folder, "images");
        Paint(Path.Combine(images, "good"), DefectType.Good, 3, seed: 11);
        Paint(Path.Combine(images, "hole"), DefectType.Hole, 3, seed: 12);
        var store = Path.Combine(folder, "store");
        CliJobs.Run(["cluster", images, "-k", "2", "-o", Path.Combine(folder, "out"), "--store", store, .. Small]);
        CliJobs.Run("line", "create", "plates", "--from-result", Path.Combine(folder, "out"), "--store", store);
        // The feed: two images of the catalog's own, new holes, a flat grey image (far from both types) and a file that is no image.
        var feed = Path.Combine(folder, "feed");
        Directory.CreateDirectory(feed);
        File.Copy(Directory.GetFiles(Path.Combine(images, "good"))[0], Path.Combine(feed, "known-good.png"));
        File.Copy(Directory.GetFiles(Path.Combine(images, "hole"))[0], Path.Combine(feed, "known-hole.png"));
        Paint(Path.Combine(feed, "new"), DefectType.Hole, 2, seed: 13);
        File.WriteAllBytes(Path.Combine(feed, "grey.png"), Unit.ThumbnailTests.GreyPng(256, 256));
        File.WriteAllText(Path.Combine(feed, "broken.png"), "this is not a picture");
        CliJobs.Run("line", "feed", "plates", feed, "--store", store);
        var html = Path.Combine(folder, "report.html");

        var printed = CliJobs.Run("line", "report", "plates", "--since", "24h", "-o", html, "--store", store);

        var logged = (await LineDecisionLog.PageAsync(new LocalDirectoryBlobStore(store), "lines/_/plates/", null, null, 1000, null, TestContext.Current.CancellationToken)).Decisions;
        Assert.Equal(6, logged.Count);
        Assert.Contains($"{logged.Count} decisions of line plates", printed);
        static string SeriesOf(LineDecision d) => d.Error is not null ? "error" : d.Outcome == "novel" ? "novel" : d.Decision;
        var expected = logged.GroupBy(SeriesOf).ToDictionary(g => g.Key, g => g.Count());

        await using var report = await chromium.OpenAsync(html);
        var page = report.Page;
        Assert.Equal(logged.Count.ToString(CultureInfo.InvariantCulture), await page.Locator("#decision-count").TextContentAsync());
        // The chart: its bars add up to each series' count in the log.
        var bars = await page.Locator("#chart rect.bar").EvaluateAllAsync<string[][]>("bars => bars.map(b => [b.dataset.series, b.dataset.count])");
        var charted = bars.GroupBy(b => b[0]).ToDictionary(g => g.Key, g => g.Sum(b => int.Parse(b[1], CultureInfo.InvariantCulture)));
        Assert.Equal(expected.OrderBy(p => p.Key), charted.OrderBy(p => p.Key));
        foreach (var (series, count) in expected)
        {
            Assert.Equal(count.ToString(CultureInfo.InvariantCulture), await page.Locator($"#count-table tr[data-series='{series}'] td.count").TextContentAsync());
        }
        // Each defect type: its newest images, each with its thumbnail and heat map, all decoded.
        foreach (var type in logged.Where(d => d.Outcome is "assigned" or "ambiguous").GroupBy(d => d.Decision))
        {
            var figures = page.Locator($"#types .type[data-type='{type.Key}'] figure");
            Assert.Equal(Math.Min(type.Count(), 6), await figures.CountAsync());
            Assert.Equal(type.OrderByDescending(d => d.DecidedAt).First().ImageId, await figures.First.GetAttributeAsync("data-image-id"));
            Assert.Equal(await figures.CountAsync(), await page.Locator($"#types .type[data-type='{type.Key}'] figure img.heat").CountAsync());
        }
        var novel = logged.Count(d => d.Outcome == "novel");
        Assert.Equal(novel.ToString(CultureInfo.InvariantCulture), await page.Locator("#novel").GetAttributeAsync("data-novel-count"));
        Assert.Equal(novel, await page.Locator("#novel figure").CountAsync());
        Assert.Contains("broken.png", await page.Locator("#errors").TextContentAsync());
        var shown = await page.Locator("figure img").CountAsync();
        Assert.Equal(shown, await report.LoadAllImagesAsync("figure img"));
        await report.ScreenshotAsync("line-report.png");
        Assert.Empty(report.Errors);

        // An ISO 8601 time starts a window too; bad windows and unknown lines are one-line errors.
        CliJobs.Run("line", "report", "plates", "--since", DateTimeOffset.UtcNow.AddDays(-2).ToString("O"), "-o", html, "--store", store);
        AssertFails(["line", "report", "plates", "--since", "yesterday", "-o", html, "--store", store], "--since 'yesterday' is neither a duration");
        AssertFails(["line", "report", "plates", "--since", "0h", "-o", html, "--store", store], "not a window");
        AssertFails(["line", "report", "nothing", "-o", html, "--store", store], "does not exist");
    }

    private static void AssertFails(string[] args, string message)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = CliApplication.RunAsync(args, CliConsole.ForWriters(output, error)).GetAwaiter().GetResult();
        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, error.ToString());
        Assert.DoesNotContain("   at ", error.ToString());
    }

    private static void Paint(string folder, DefectType defect, int count, int seed)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"{defect.ToString().ToLowerInvariant()}_{seed}_{i}.png"), SyntheticSurfacePainter.PaintPng(defect, random));
        }
    }
}
