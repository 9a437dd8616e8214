using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Tests.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Scoring;

/// <summary>
/// The anomaly map (bilinear upsampling as PyTorch, then SciPy's gaussian_filter) against tools/fixtures/gen_pixel_detection.py,
/// without smoothing, with equal and with unequal sigmas, and with a kernel wider than the map (SciPy's reflection repeats).
/// </summary>
public class AnomalyMapTests
{
    public static TheoryData<int> MapIndices() => [.. Enumerable.Range(0, PixelDetectionFixture.Maps.Length)];

    [Theory]
    [MemberData(nameof(MapIndices))]
    public void EqualsTheReference(int index)
    {
        var fixture = PixelDetectionFixture.Maps[index];
        int height = fixture.GetProperty("height").GetInt32(), width = fixture.GetProperty("width").GetInt32();
        var expected = PixelDetectionFixture.Floats(fixture.GetProperty("map"));
        var map = new float[height * width];

        AnomalyMap.Render(
            PixelDetectionFixture.Floats(fixture.GetProperty("grid")), fixture.GetProperty("gridHeight").GetInt32(), fixture.GetProperty("gridWidth").GetInt32(),
            height, width, fixture.GetProperty("sigmaY").GetDouble(), fixture.GetProperty("sigmaX").GetDouble(), map);

        for (var i = 0; i < map.Length; i++)
        {
            // float32 maps: equal to a few units in the last place of values around 1-10.
            Assert.InRange(Math.Abs(map[i] - expected[i]), 0, 2e-6 * Math.Max(1, Math.Abs(expected[i])));
        }
    }

    [Fact]
    public void KernelIsScipys()
    {
        // scipy.ndimage._filters._gaussian_kernel1d(1.0, 0, 4)[4]: radius int(4 * 1 + 0.5) = 4, normalised to sum 1.
        var kernel = AnomalyMap.Kernel(1.0);

        Assert.Equal(9, kernel.Length);
        Assert.Equal(1.0, kernel.Sum(), 12);
        Assert.Equal(0.39894346935609776, kernel[4], 14);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        var map = new float[4];
        Assert.Throws<InvalidClusteringInputException>(() => AnomalyMap.Render([1f, 2f], 1, 2, 2, 2, -1, 0, map));
        Assert.Throws<InvalidClusteringInputException>(() => AnomalyMap.Render([1f, 2f, 3f], 1, 2, 2, 2, 0, 0, map));
        Assert.Throws<InvalidClusteringInputException>(() => AnomalyMap.Render([1f, float.PositiveInfinity], 1, 2, 2, 2, 0, 0, map));
        Assert.Throws<InvalidClusteringInputException>(() => AnomalyMap.Render([1f, 2f], 1, 2, 2, 3, 0, 0, map));
    }
}
