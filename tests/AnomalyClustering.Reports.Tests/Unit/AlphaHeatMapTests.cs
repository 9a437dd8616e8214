using System.Text.Json;
using AnomalyClustering.Reports.HeatMaps;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>Upsampling against PyTorch's bilinear interpolation (align_corners = false), normalisation and blending.</summary>
public sealed class AlphaHeatMapTests
{
    public static TheoryData<int> Cases => new(Enumerable.Range(0, Fixture().Count()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Upsampling_equals_torch_interpolate(int index)
    {
        var c = Fixture().ElementAt(index);
        var grid = c.GetProperty("grid").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var expected = c.GetProperty("expected").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var (outHeight, outWidth) = (c.GetProperty("outHeight").GetInt32(), c.GetProperty("outWidth").GetInt32());
        var output = new float[outHeight * outWidth];
        AlphaHeatMap.Upsample(grid, c.GetProperty("height").GetInt32(), c.GetProperty("width").GetInt32(), output, outHeight, outWidth);
        for (var i = 0; i < output.Length; i++)
        {
            Assert.True(Math.Abs(output[i] - expected[i]) <= 1e-6f, $"value {i}: {output[i]} vs torch {expected[i]}");
        }
    }

    [Fact]
    public void Normalising_maps_the_smallest_weight_to_0_and_the_largest_to_1()
    {
        float[] values = [0.002f, 0.010f, 0.006f];
        AlphaHeatMap.Normalize(values);
        Assert.Equal(0f, values[0]);
        Assert.Equal(1f, values[1]);
        Assert.Equal(0.5f, values[2], 1e-6f);
    }

    [Fact]
    public void Uniform_weights_show_nothing()
    {
        var values = Enumerable.Repeat(1f / 784, 784).ToArray();
        AlphaHeatMap.Normalize(values);
        Assert.All(values, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Blending_mixes_half_image_half_colour_map()
    {
        byte[] rgba = [100, 100, 100, 255, 100, 100, 100, 255];
        AlphaHeatMap.BlendOver(rgba, [0f, 1f]);
        var (r0, g0, b0) = InfernoColorMap.Of(0f);
        var (r1, g1, b1) = InfernoColorMap.Of(1f);
        Assert.Equal(new byte[] { Half(r0), Half(g0), Half(b0), 255, Half(r1), Half(g1), Half(b1), 255 }, rgba);
        static byte Half(byte colour) => (byte)MathF.Round(0.5f * 100 + 0.5f * colour);
    }

    [Fact]
    public void The_colour_map_runs_from_black_to_pale_yellow()
    {
        Assert.Equal("#000004", InfernoColorMap.CssOf(0f));
        Assert.Equal("#fcffa4", InfernoColorMap.CssOf(1f));
        Assert.Equal(InfernoColorMap.Of(0f), InfernoColorMap.Of(float.NaN));
    }

    private static IEnumerable<JsonElement> Fixture() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("reports", "bilinear.json"))).RootElement.GetProperty("cases").EnumerateArray();
}
