using AnomalyClustering.Testing.Browser;
using System.Text.Json;
using AnomalyClustering.Reports.Images;
using Microsoft.Playwright;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// The report of a real job (the demo through the CLI, built-in backbone) opened from file:// in headless Chromium:
/// galleries, heat maps, dendrogram, confusion matrix, names, paging, linked thumbnails and the API call for names.
/// </summary>
public sealed class DemoReportBrowserTests(ChromiumFixture chromium, DemoJobFixture demo) : IClassFixture<DemoJobFixture>
{
    [Fact]
    public async Task Galleries_show_every_image_of_each_cluster_medoid_first()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var page = report.Page;
        var result = demo.Result;
        Assert.Equal(result.ClusterCount, await page.Locator("article.cluster").CountAsync());
        for (var c = 0; c < result.ClusterCount; c++)
        {
            var expected = result.Images.Where(i => i.Cluster == c).Select(i => i.Id).Order(StringComparer.Ordinal).ToList();
            var tiles = page.Locator($".gallery[data-cluster='{c}'] .tile");
            Assert.Equal(expected.Count, await tiles.CountAsync());
            var shown = await tiles.EvaluateAllAsync<string[]>("tiles => tiles.map(t => t.title.split('\\n')[0])");
            Assert.Equal(expected, shown.Order(StringComparer.Ordinal));
            Assert.Equal("medoid", await tiles.First.Locator(".badge").TextContentAsync());
            Assert.Equal(1, await page.Locator($".gallery[data-cluster='{c}'] .badge").CountAsync());
            Assert.Contains($"{expected.Count} images", await page.Locator($"#cluster-{c} .size").TextContentAsync());
        }
        Assert.Contains(result.Scores!.NormalizedMutualInformation.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#metric-nmi").TextContentAsync());
        await report.ScreenshotAsync("report-demo.png");
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task The_score_order_sorts_every_gallery_most_anomalous_first_and_the_histogram_counts_every_image()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var page = report.Page;
        var result = demo.Result;
        var scoreOf = result.Images.ToDictionary(i => i.Id, i => i.AnomalyScore!.Value);
        await page.Locator("#gallery-order").SelectOptionAsync("score");
        for (var c = 0; c < result.ClusterCount; c++)
        {
            var shown = await page.Locator($".gallery[data-cluster='{c}'] .tile").EvaluateAllAsync<string[]>("tiles => tiles.map(t => t.title.split('\\n')[0])");
            Assert.Equal(result.Images.Count(i => i.Cluster == c), shown.Length);
            var scores = shown.Select(id => scoreOf[id]).ToArray();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
        }
        var counted = await page.Locator("#score-histogram rect title").EvaluateAllAsync<int[]>("titles => titles.map(t => parseInt(t.textContent, 10))");
        Assert.Equal(result.Images.Count, counted.Sum());
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task Heat_maps_are_decoded_coloured_images_over_each_thumbnail()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var count = demo.Result.Images.Count;
        Assert.Equal(count, await report.LoadAllImagesAsync("img.heat"));
        Assert.Equal(count, await report.LoadAllImagesAsync("img.plain"));
        // Pixels of each heat map: the thumbnail's size, the colour map's colours, and far from the plain thumbnail.
        var stats = await report.Page.EvaluateAsync<JsonElement>(
            @"() => [...document.querySelectorAll('.tile')].map(tile => {
                const pixels = image => {
                  const canvas = document.createElement('canvas');
                  canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
                  const context = canvas.getContext('2d');
                  context.drawImage(image, 0, 0);
                  return { width: canvas.width, height: canvas.height, data: context.getImageData(0, 0, canvas.width, canvas.height).data };
                };
                const heat = pixels(tile.querySelector('img.heat')), plain = pixels(tile.querySelector('img.plain'));
                const saturation = (d, k) => Math.max(d[k], d[k + 1], d[k + 2]) - Math.min(d[k], d[k + 1], d[k + 2]);
                let heatColour = 0, difference = 0, n = heat.data.length / 4;
                for (let k = 0; k < heat.data.length; k += 4) {
                  heatColour = Math.max(heatColour, saturation(heat.data, k));
                  difference += Math.abs(heat.data[k] - plain.data[k]) + Math.abs(heat.data[k + 1] - plain.data[k + 1]) + Math.abs(heat.data[k + 2] - plain.data[k + 2]);
                }
                return { width: heat.width, height: heat.height, plainWidth: plain.width, heatColour, difference: difference / (3 * n) };
              })");
        Assert.Equal(count, stats.GetArrayLength());
        foreach (var tile in stats.EnumerateArray())
        {
            Assert.Equal(160, Math.Max(tile.GetProperty("width").GetInt32(), tile.GetProperty("height").GetInt32()));
            Assert.Equal(tile.GetProperty("plainWidth").GetInt32(), tile.GetProperty("width").GetInt32());
            // The top of the colour map (pale yellow) at half strength leaves at least ~45 of saturation even on grey.
            Assert.True(tile.GetProperty("heatColour").GetDouble() > 35, $"heat map without its colours: {tile}");
            // Half of every pixel is the colour map, mostly its dark end: far from the plain thumbnail.
            Assert.True(tile.GetProperty("difference").GetDouble() > 20, $"heat map hardly differs from its image: {tile}");
        }
        Assert.True(await report.Page.Locator("#heat-legend .scale").IsVisibleAsync());
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task The_heat_switch_and_a_click_show_the_plain_image()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var page = report.Page;
        var tile = page.Locator(".tile").First;
        Assert.True(await tile.Locator("img.heat").IsVisibleAsync());
        Assert.False(await tile.Locator("img.plain").IsVisibleAsync());
        await page.Locator("#show-heat").UncheckAsync();
        Assert.True(await tile.Locator("img.plain").IsVisibleAsync());
        Assert.False(await tile.Locator("img.heat").IsVisibleAsync());
        await page.Locator("#show-heat").CheckAsync();
        await tile.ClickAsync();
        Assert.True(await tile.Locator("img.plain").IsVisibleAsync());
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task The_dendrogram_and_the_confusion_matrix_render()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var page = report.Page;
        var result = demo.Result;
        Assert.True(await page.Locator("#dendrogram-svg").IsVisibleAsync());
        Assert.Equal(result.Images.Count, await page.Locator("#dendrogram-svg rect.leaf").CountAsync());
        Assert.Equal(result.Images.Count - 1, await page.Locator("#dendrogram-svg path.link").CountAsync());
        Assert.Equal(1, await page.Locator("#dendrogram-svg line.cut").CountAsync());
        var box = await page.Locator("#dendrogram-svg").BoundingBoxAsync();
        Assert.True(box is { Width: > 500, Height: > 100 }, $"dendrogram box {box?.Width} x {box?.Height}");

        var rows = page.Locator("table.confusion tbody tr");
        Assert.Equal(result.ClusterCount, await rows.CountAsync());
        var counts = await rows.EvaluateAllAsync<int[][]>(
            "rows => rows.map(row => [...row.querySelectorAll('td')].slice(0, -3).map(cell => Number(cell.textContent)))");
        Assert.Equal(result.Images.Count, counts.Sum(row => row.Sum()));
        Assert.All(counts, row => Assert.Equal(result.ClassNames.Count, row.Length));
        Assert.Equal(Math.Min(result.ClusterCount, result.ClassNames.Count), await page.Locator("table.confusion td.matched").CountAsync());
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task A_name_typed_in_the_page_shows_everywhere_downloads_and_comes_back_in_the_next_report()
    {
        await using var report = await chromium.OpenAsync(demo.ReportPath);
        var page = report.Page;
        await page.Locator(".name-input[data-cluster='0']").FillAsync("crack");
        await page.Locator(".name-input[data-cluster='0']").PressAsync("Enter");
        Assert.Equal("crack", await page.Locator("#cluster-0 header .cluster-name").TextContentAsync());
        Assert.Equal("crack", await page.Locator("table.confusion tr[data-cluster='0'] .cluster-name").TextContentAsync());
        Assert.Equal("{\"0\":\"crack\"}", Compact(await page.Locator("#names-json").InputValueAsync()));

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#download-names").ClickAsync());
        Assert.Equal("names.json", download.SuggestedFilename);
        var folder = CliJobs.TemporaryFolder("names");
        var namesPath = Path.Combine(folder, "names.json");
        await download.SaveAsAsync(namesPath);
        Assert.Equal("{\"0\":\"crack\"}", Compact(await File.ReadAllTextAsync(namesPath, TestContext.Current.CancellationToken)));

        // The downloaded file names the cluster in the next report and in the job's files.
        // The result is a folder (summary, images.parquet, linkage.npy, ...): copy its files, not the report.
        foreach (var file in Directory.GetFiles(demo.ResultFolder).Where(file => Path.GetFileName(file) != ClusterReport.FileName))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        CliJobs.Run("report", Path.Combine(folder, "result.json"), "--names", namesPath);
        await using var named = await chromium.OpenAsync(Path.Combine(folder, ClusterReport.FileName));
        Assert.Equal("crack", await named.Page.Locator("#cluster-0 header .cluster-name").TextContentAsync());
        Assert.Equal("crack", await named.Page.Locator(".name-input[data-cluster='0']").InputValueAsync());
        Assert.Equal("crack", CliJobs.ReadResult(Path.Combine(folder, "result.json")).Result.Names.NameOf(0));
        Assert.Contains("cluster_name", File.ReadLines(Path.Combine(folder, "clusters.csv")).First());
        await named.ScreenshotAsync("report-demo-named.png");
        Assert.Empty(report.Errors);
        Assert.Empty(named.Errors);
    }

    [Fact]
    public async Task Large_galleries_are_paged()
    {
        var folder = CliJobs.TemporaryFolder("paged");
        var html = await ClusterReport.WriteToFolderAsync(
            demo.Result, demo.Source, FileImageSource.UnderFolder(demo.Source.Path), folder, new ReportOptions { PageSize = 3 }, TestContext.Current.CancellationToken);
        var largest = demo.Result.Images.GroupBy(i => i.Cluster).OrderByDescending(g => g.Count()).First();
        Assert.True(largest.Count() > 3, "the demo job should have a cluster of more than 3 images");
        await using var report = await chromium.OpenAsync(html);
        var page = report.Page;
        var gallery = page.Locator($".gallery[data-cluster='{largest.Key}'] .tile");
        var pager = page.Locator($".pager[data-cluster='{largest.Key}']");
        var pages = (largest.Count() + 2) / 3;
        Assert.Equal(3, await gallery.CountAsync());
        Assert.Equal($"page 1 of {pages}", await pager.Locator(".page-info").TextContentAsync());
        Assert.True(await pager.Locator(".prev").IsDisabledAsync());
        var first = await gallery.EvaluateAllAsync<string[]>("tiles => tiles.map(t => t.dataset.image)");
        await pager.Locator(".next").ClickAsync();
        Assert.Equal($"page 2 of {pages}", await pager.Locator(".page-info").TextContentAsync());
        Assert.Equal(Math.Min(3, largest.Count() - 3), await gallery.CountAsync());
        var second = await gallery.EvaluateAllAsync<string[]>("tiles => tiles.map(t => t.dataset.image)");
        Assert.Empty(first.Intersect(second));
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task Large_jobs_link_thumbnail_files_that_load_lazily()
    {
        var folder = CliJobs.TemporaryFolder("linked");
        var html = await ClusterReport.WriteToFolderAsync(
            demo.Result, demo.Source, FileImageSource.UnderFolder(demo.Source.Path), folder, new ReportOptions { InlineImageLimit = 0 }, TestContext.Current.CancellationToken);
        Assert.True(new FileInfo(html).Length < new FileInfo(demo.ReportPath).Length / 2, "a linked report should be much smaller than an inline one");
        Assert.Equal(2 * demo.Result.Images.Count, Directory.GetFiles(Path.Combine(folder, "thumbnails"), "*.jpg").Length);
        await using var report = await chromium.OpenAsync(html);
        var sources = await report.Page.Locator("img").EvaluateAllAsync<string[]>("images => images.map(i => i.getAttribute('src') + ' ' + i.loading)");
        Assert.All(sources, source => Assert.Matches("^thumbnails/(img|heat)-[0-9a-z-]+\\.jpg lazy$", source));
        Assert.Equal(demo.Result.Images.Count, await report.LoadAllImagesAsync("img.heat"));
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task Served_by_the_API_a_name_is_saved_with_PUT_and_a_failure_is_shown()
    {
        var folder = CliJobs.TemporaryFolder("api");
        var html = await ClusterReport.WriteToFolderAsync(
            demo.Result, demo.Source, FileImageSource.UnderFolder(demo.Source.Path), folder,
            new ReportOptions { ApiBaseUrl = "http://api.test/v1/", JobId = "job 7" }, TestContext.Current.CancellationToken);
        await using var report = await chromium.OpenAsync(html);
        var page = report.Page;
        var requests = new List<(string Method, string Url, string? Body)>();
        var status = 204;
        await page.Context.RouteAsync("http://api.test/**", async route =>
        {
            requests.Add((route.Request.Method, route.Request.Url, route.Request.PostData));
            await route.FulfillAsync(new RouteFulfillOptions { Status = status, Body = status == 204 ? null : "job not found" });
        });
        await page.Locator(".name-input[data-cluster='1']").FillAsync("scratch");
        await page.Locator(".name-input[data-cluster='1']").PressAsync("Enter");
        await page.Locator("[data-save-of='1']").Filter(new LocatorFilterOptions { HasText = "saved" }).WaitForAsync();
        Assert.Equal(("PUT", "http://api.test/v1/jobs/job%207/clusters/1/name", "{\"name\":\"scratch\"}"), Assert.Single(requests));
        Assert.Equal("saved", await page.Locator("[data-save-of='1']").TextContentAsync());

        status = 404;
        await page.Locator(".name-input[data-cluster='1']").FillAsync("");
        await page.Locator(".name-input[data-cluster='1']").PressAsync("Enter");
        await page.Locator("[data-save-of='1'].failed").WaitForAsync();
        Assert.Equal("{\"name\":\"\"}", requests[^1].Body);
        Assert.Contains("not saved: 404", await page.Locator("[data-save-of='1']").TextContentAsync());
        Assert.Equal(string.Empty, await page.Locator("#cluster-1 header .cluster-name").TextContentAsync());
        // The failed fetch logs a console error of its own; nothing else may have gone wrong.
        Assert.All(report.Errors, error => Assert.Contains("404", error));
    }

    private static string Compact(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}
