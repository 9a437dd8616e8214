using System.Text.Json;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Embedding.Tests;

/// <summary>The committed tiny torch-exported backbone (tools/fixtures/gen_onnx_backbone.py) and its torch reference outputs.</summary>
internal static class TinyBackboneFixture
{
    public static string ModelPath => TestPaths.Fixture("onnx", "tiny_backbone.onnx");

    public static string DescriptionPath => TestPaths.Fixture("onnx", "tiny_backbone.json");

    public static NpyArray Input => Npy("input.npy");

    public static NpyArray Stride8 => Npy("stride8.npy");

    public static NpyArray Stride16 => Npy("stride16.npy");

    /// <summary>Name of the stem's ReLU output, an internal tensor of the export.</summary>
    public static string StemRelu => Internal.GetProperty("stemRelu").GetString()!;

    /// <summary>Torch's shape of that tensor for <see cref="Input"/>.</summary>
    public static int[] StemReluShape => Internal.GetProperty("stemReluShape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static JsonElement Internal =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("onnx", "internal.json"))).RootElement;

    private static NpyArray Npy(string name) => NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("onnx", name)));

    /// <summary>
    /// Asserts equality to torch's map to 1e-4 relative: every element within 1e-4 x (|expected| + 1e-2 x max|expected|),
    /// the small floor so that near-zero activations (where float32 summation order dominates) do not count as errors.
    /// </summary>
    public static void AssertCloseToTorch(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0, $"{what}: reference map is all zero");
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs(actual[i] - expected[i]) / (Math.Abs(expected[i]) + 1e-2 * scale);
            if (excess > worst)
            {
                worst = excess;
                worstIndex = i;
            }
        }
        Assert.True(worst <= 1e-4, $"{what}: element {worstIndex} is {actual[worstIndex]} vs torch {expected[worstIndex]} (relative error {worst:E2})");
    }
}
