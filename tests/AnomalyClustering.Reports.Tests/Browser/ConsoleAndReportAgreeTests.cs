using System.Text.Json;
using System.Text.RegularExpressions;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing.Browser;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// A user's job with long label names and clusters of different sizes, run through <c>anomaly-cluster cluster</c>: the
/// console and the report list the clusters in one order (largest first), and every gallery caption shows its whole label.
/// </summary>
public sealed partial class ConsoleAndReportAgreeTests(ChromiumFixture chromium, LongLabelJobFixture job) : IClassFixture<LongLabelJobFixture>
{
    [Fact]
    public void The_report_lists_the_clusters_in_the_consoles_order()
    {
        var console = ConsoleRow().Matches(job.ConsoleOutput).Select(row => (Cluster: int.Parse(row.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Size: int.Parse(row.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(job.Result.ClusterCount, console.Count);
        // Largest first, with sizes that differ and not in index order: a page in index order (as before) would not pass.
        Assert.Equal(console.Select(row => row.Size).OrderDescending(), console.Select(row => row.Size));
        Assert.True(console.Select(row => row.Size).Distinct().Count() > 1, job.ConsoleOutput);
        Assert.NotEqual(console.Select(row => row.Cluster).Order(), console.Select(row => row.Cluster));

        var html = File.ReadAllText(job.ReportPath);
        var report = ReportCluster().Matches(html).Select(article => int.Parse(article.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(console.Select(row => row.Cluster), report);
    }

    [Fact]
    public async Task Every_caption_shows_its_whole_label()
    {
        await using var report = await chromium.OpenAsync(job.ReportPath);
        var boxes = await report.Page.Locator(".tile figcaption .label").EvaluateAllAsync<JsonElement>(
            "spans => spans.map(s => ({ text: s.textContent, scrollWidth: s.scrollWidth, clientWidth: s.clientWidth, scrollHeight: s.scrollHeight, clientHeight: s.clientHeight }))");
        var labels = boxes.EnumerateArray().Select(box => new LabelBox(box.GetProperty("text").GetString()!,
            box.GetProperty("scrollWidth").GetInt32(), box.GetProperty("clientWidth").GetInt32(),
            box.GetProperty("scrollHeight").GetInt32(), box.GetProperty("clientHeight").GetInt32())).ToList();
        Assert.Equal(job.Result.Images.Count, labels.Count);
        var expected = job.Result.Images.Select(image => image.Label!).Order(StringComparer.Ordinal);
        Assert.Equal(expected, labels.Select(label => label.Text).Order(StringComparer.Ordinal));
        // Nothing of the text hidden: no ellipsis, no overflow cut off in either direction.
        Assert.All(labels, label => Assert.True(label.ScrollWidth <= label.ClientWidth && label.ScrollHeight <= label.ClientHeight,
            $"'{label.Text}' is cut: {label.ScrollWidth} x {label.ScrollHeight} of content in {label.ClientWidth} x {label.ClientHeight}"));
        await report.ScreenshotAsync("report-long-labels.png");
        Assert.Empty(report.Errors);
    }

    /// <summary>A label's text and its box, as the page lays it out.</summary>
    private sealed record LabelBox(string Text, int ScrollWidth, int ClientWidth, int ScrollHeight, int ClientHeight);

    // A first line of a row of the console's cluster table: "│ cluster │ images │ ...".
    [GeneratedRegex(@"^│\s*(\d+)\s*│\s*(\d+)\s*│", RegexOptions.Multiline)]
    private static partial Regex ConsoleRow();

    [GeneratedRegex(@"<article class=""cluster"" id=""cluster-(\d+)""")]
    private static partial Regex ReportCluster();
}

/// <summary>
/// The demo's images (4 per class) copied into class folders named as people name defects, of 4, 3 and 2 images, and
/// clustered into 3 with the CLI (the console's output kept).
/// </summary>
public sealed class LongLabelJobFixture : IDisposable
{
    /// <summary>Class folder names as long as real ones get, each with how many of the demo class's images it takes.</summary>
    private static readonly (string DemoClass, string Label, int Count)[] Classes =
    [
        // The largest class last by name, so that its cluster is not cluster 0 and "largest first" is not index order.
        ("hole", "hole_punched_through_the_plate_near_a_corner", 2),
        ("scratch", "scratch_across_the_brushed_grain_direction", 3),
        ("good", "without_defects_as_inspected", 4),
    ];

    /// <summary>Runs the demo (for its images) and the job.</summary>
    public LongLabelJobFixture()
    {
        Folder = CliJobs.TemporaryFolder("long-labels");
        var demo = Path.Combine(Folder, "demo");
        CliJobs.Run("demo", "--out", demo, "--images-per-class", "4");
        var product = Directory.GetDirectories(demo).Single(folder => Directory.Exists(Path.Combine(folder, "test")));
        var images = Path.Combine(Folder, "images");
        foreach (var (demoClass, label, count) in Classes)
        {
            Directory.CreateDirectory(Path.Combine(images, label));
            foreach (var file in Directory.GetFiles(Path.Combine(product, "test", demoClass)).Order(StringComparer.Ordinal).Take(count))
            {
                File.Copy(file, Path.Combine(images, label, Path.GetFileName(file)));
            }
        }
        var output = Path.Combine(Folder, "out");
        ConsoleOutput = CliJobs.Run("cluster", images, "--clusters", "3", "--out", output);
        ReportPath = Path.Combine(output, ClusterReport.FileName);
        (Result, _) = CliJobs.ReadResult(Path.Combine(output, "result.json"));
    }

    /// <summary>Everything here.</summary>
    public string Folder { get; }

    /// <summary>What <c>cluster</c> printed.</summary>
    public string ConsoleOutput { get; }

    /// <summary>The report it wrote.</summary>
    public string ReportPath { get; }

    /// <summary>The result it wrote.</summary>
    public ClusteringResult Result { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner; a test's own failure matters more.
        }
    }
}
