using System.Text.Json;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>The anomaly maps and pixel metrics of tools/fixtures/gen_pixel_detection.py (SciPy, scikit-learn, MVTec AD's PRO code).</summary>
internal static class PixelDetectionFixture
{
    private static readonly Lazy<JsonElement> Root = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("detection", "pixel.json")));
        return document.RootElement.Clone();
    });

    public static JsonElement[] Maps => [.. Root.Value.GetProperty("maps").EnumerateArray()];

    public static JsonElement Metric(string name) => Root.Value.GetProperty("metrics").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> MetricNames() => [.. Root.Value.GetProperty("metrics").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
}
