using System.Text.Json;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>
/// Pixel AUROC against scikit-learn's roc_auc_score and PRO against the MVTec AD evaluation code re-implemented in numpy/SciPy
/// (tools/fixtures/gen_pixel_detection.py), on random, tied, diagonal-region, perfect and inverted maps.
/// </summary>
public class PixelDetectionMetricsTests
{
    public static TheoryData<string> CaseNames() => PixelDetectionFixture.MetricNames();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EqualsTheReferences(string name)
    {
        var fixture = PixelDetectionFixture.Metric(name);
        var limits = fixture.GetProperty("limits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var expectedPro = fixture.GetProperty("pro").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var metrics = Pool(fixture.GetProperty("images").EnumerateArray());

        for (var j = 0; j < limits.Length; j++)
        {
            var scores = metrics.Compute(limits[j]);

            Assert.InRange(Math.Abs(scores.PixelAuroc - fixture.GetProperty("pixelAuroc").GetDouble()), 0, MetricsFixtures.Tolerance);
            Assert.InRange(Math.Abs(scores.Pro - expectedPro[j]), 0, MetricsFixtures.Tolerance);
            Assert.Equal(fixture.GetProperty("regions").GetInt32(), scores.Regions);
            Assert.Equal(limits[j], scores.ProIntegrationLimit);
        }
    }

    [Fact]
    public void ImageOrderDoesNotMatter()
    {
        var images = PixelDetectionFixture.Metric("rendered-ties").GetProperty("images").EnumerateArray().ToArray();

        var forward = Pool(images).Compute();
        var backward = Pool(images.Reverse()).Compute();

        Assert.Equal(forward.PixelAuroc, backward.PixelAuroc, 12);
        Assert.Equal(forward.Pro, backward.Pro, 12);
        Assert.Equal(images.Length, forward.Images);
        Assert.Equal(images.Sum(i => i.GetProperty("height").GetInt32() * i.GetProperty("width").GetInt32()), forward.Pixels);
    }

    [Fact]
    public void GrowsBeyondItsInitialCapacity()
    {
        var images = PixelDetectionFixture.Metric("random-blobs").GetProperty("images").EnumerateArray();
        var small = new PixelDetectionMetrics(pixelCapacity: 1);
        foreach (var image in images)
        {
            Add(small, image);
        }

        Assert.InRange(Math.Abs(small.Compute().PixelAuroc - PixelDetectionFixture.Metric("random-blobs").GetProperty("pixelAuroc").GetDouble()), 0, MetricsFixtures.Tolerance);
    }

    [Fact]
    public void MasksWithoutDefectsAreRefused()
    {
        var metrics = new PixelDetectionMetrics();
        metrics.Add([0.1f, 0.2f, 0.3f, 0.4f], [false, false, false, false], 2, 2);

        var error = Assert.Throws<InvalidClusteringInputException>(() => metrics.Compute());
        Assert.Contains("0 defect", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        var metrics = new PixelDetectionMetrics();
        Assert.Throws<InvalidClusteringInputException>(() => metrics.Add([0.1f, float.NaN], [false, true], 1, 2));
        Assert.Throws<InvalidClusteringInputException>(() => metrics.Add([0.1f, 0.2f], [false], 1, 2));
        metrics.Add([0.1f, 0.2f], [false, true], 1, 2);
        Assert.Throws<InvalidClusteringInputException>(() => metrics.Compute(0));
        Assert.Throws<InvalidClusteringInputException>(() => metrics.Compute(1.5));
    }

    private static PixelDetectionMetrics Pool(IEnumerable<JsonElement> images)
    {
        var metrics = new PixelDetectionMetrics();
        foreach (var image in images)
        {
            Add(metrics, image);
        }
        return metrics;
    }

    private static void Add(PixelDetectionMetrics metrics, JsonElement image)
    {
        var map = PixelDetectionFixture.Floats(image.GetProperty("map"));
        var mask = image.GetProperty("mask").EnumerateArray().Select(e => e.GetInt32() != 0).ToArray();
        metrics.Add(map, mask, image.GetProperty("height").GetInt32(), image.GetProperty("width").GetInt32());
    }
}
