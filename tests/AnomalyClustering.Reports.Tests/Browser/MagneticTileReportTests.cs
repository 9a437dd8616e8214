using AnomalyClustering.Testing.Browser;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>
/// The acceptance test of the report: a magnetic-tile job with the ImageNet ResNet-50 backbone (../shared), run through
/// the CLI, opens in Chromium with its galleries and heat maps. A subset of 8 images per class (48 images, 6 classes)
/// bounds the test's time; the full dataset's numbers are in docs/RESULTS.md.
/// </summary>
public sealed class MagneticTileReportTests(ChromiumFixture chromium)
{
    private const int ImagesPerClass = 8;

    [Fact]
    public async Task The_report_of_a_ResNet50_magnetic_tile_job_opens_with_galleries_and_heat_maps()
    {
        var browser = chromium.Browser;
        var model = TestPaths.RequireShared("models", "resnet50_imagenet_layer2_layer3.onnx");
        var dataset = TestPaths.RequireShared("data", "magnetic_tile");
        var folder = CliJobs.TemporaryFolder("magnetic-tile");
        try
        {
            // An MVTec-layout subset by links: the first images of each class, in the dataset's order.
            var subset = Path.Combine(folder, "magnetic_tile");
            var classes = Directory.GetDirectories(Path.Combine(dataset, "test")).Order(StringComparer.Ordinal).ToList();
            foreach (var classFolder in classes)
            {
                var target = Path.Combine(subset, "test", Path.GetFileName(classFolder));
                Directory.CreateDirectory(target);
                foreach (var file in Directory.GetFiles(classFolder, "*.jpg").Order(StringComparer.Ordinal).Take(ImagesPerClass))
                {
                    File.CreateSymbolicLink(Path.Combine(target, Path.GetFileName(file)), file);
                }
            }
            var output = Path.Combine(folder, "out");
            CliJobs.Run("cluster", subset, "--model", model, "--out", output, "--store", Path.Combine(folder, "store"));

            var (result, source) = CliJobs.ReadResult(Path.Combine(output, "result.json"));
            Assert.Equal("resnet50_imagenet_layer2_layer3", source.Backbone);
            Assert.Equal(classes.Count * ImagesPerClass, result.Images.Count);
            Assert.Equal(classes.Count, result.ClusterCount);
            Assert.All(result.Images, image => Assert.Equal(256, image.Embedding!.Length));

            await using var report = await chromium.OpenAsync(Path.Combine(output, ClusterReport.FileName));
            var page = report.Page;
            Assert.Equal(result.ClusterCount, await page.Locator("article.cluster").CountAsync());
            for (var c = 0; c < result.ClusterCount; c++)
            {
                Assert.Equal(result.Images.Count(i => i.Cluster == c), await page.Locator($".gallery[data-cluster='{c}'] .tile").CountAsync());
            }
            Assert.Equal(result.Images.Count, await report.LoadAllImagesAsync("img.heat"));
            Assert.Equal(result.Images.Count, await report.LoadAllImagesAsync("img.plain"));
            Assert.Equal(result.Images.Count, await page.Locator("#dendrogram-svg rect.leaf").CountAsync());
            Assert.Equal(result.ClusterCount, await page.Locator("table.confusion tbody tr").CountAsync());
            Assert.Contains("resnet50_imagenet_layer2_layer3", await page.Locator("header.summary").TextContentAsync());
            await report.ScreenshotAsync("report-magnetic-tile-resnet50.png");
            Assert.Empty(report.Errors);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
