using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Page;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The result's warnings are at the top of the report, above the clusters; a result without any shows no box.</summary>
public sealed class ReportWarningsTests
{
    [Fact]
    public void TheResultsWarningsAreShownAboveTheClusters()
    {
        var warning = new ResultWarning(
            ResultWarnings.ClassWithoutImagesCode,
            "class 'hole' (2 files) has no image that could be used (every file is left out, listed below), so K, the number of classes with an image, is 2 instead of 3; -k 3 keeps 3 clusters.");
        var result = SixPoints() with { Warnings = [warning, new ResultWarning(ResultWarnings.SmallPatchGridCode, "a <1x1> grid")] };

        var html = Render(result);

        var box = html.IndexOf("id=\"warnings\"", StringComparison.Ordinal);
        Assert.True(box > 0, "no warnings box");
        Assert.True(box < html.IndexOf("id=\"clusters\"", StringComparison.Ordinal), "the warnings come after the clusters");
        Assert.Contains("data-code=\"class-without-images\"", html, StringComparison.Ordinal);
        Assert.Contains("class &#39;hole&#39; (2 files) has no image that could be used", html, StringComparison.Ordinal);
        Assert.Contains("is 2 instead of 3; -k 3 keeps 3 clusters.", html, StringComparison.Ordinal);
        Assert.Contains("data-code=\"small-patch-grid\"><b>warning:</b> a &lt;1x1&gt; grid", html, StringComparison.Ordinal);

        Assert.DoesNotContain("id=\"warnings\"", Render(SixPoints()), StringComparison.Ordinal);
    }

    private static string Render(ClusteringResult result)
    {
        var source = new ResultSource("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());
        var thumbnails = result.Images.Select(_ => new ThumbnailLinks(null, null, null)).ToArray();
        return ReportPage.Render(result, source, thumbnails, new ReportOptions());
    }

    private static ClusteringResult SixPoints()
    {
        float[] points = [0, 0, 0.1f, 0, 0, 0.1f, 5, 5, 5.1f, 5, 5, 5.1f];
        return EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], ["good", "good", "good", "scratch", "scratch", "scratch"], new ClusteringJobOptions());
    }
}
