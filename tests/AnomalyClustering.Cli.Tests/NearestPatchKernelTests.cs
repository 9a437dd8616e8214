using AnomalyClustering.Cli.Demo;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The nearest-patch search as an ONNX graph (what GPU workers run on CUDA), forced here onto ONNX Runtime's CPU provider
/// through the worker setting: the same clusters as the SIMD kernel and its anomaly scores to double rounding, in both
/// scoring modes.
/// </summary>
public sealed class NearestPatchKernelTests
{
    private static readonly Dictionary<string, string> OnnxKernel = new() { ["AnomalyClustering__Worker__NearestPatchKernel"] = "Onnx" };

    [Theory]
    [InlineData("unsupervised")]
    [InlineData("semi-supervised")]
    public void TheOnnxGraphGivesTheClustersAndScoresOfTheCpuKernel(string mode)
    {
        using var folder = new TempFolder();
        var plates = folder.Combine("plates");
        SyntheticImages.Write(Path.Combine(plates, "test", "good"), DefectType.Good, 6, seed: 1);
        SyntheticImages.Write(Path.Combine(plates, "test", "hole"), DefectType.Hole, 6, seed: 2);
        SyntheticImages.Write(Path.Combine(plates, "test", "scratch"), DefectType.Scratch, 6, seed: 3);
        SyntheticImages.Write(Path.Combine(plates, "train", "good"), DefectType.Good, 6, seed: 4);
        string[] job = ["cluster", plates, "--mode", mode, "-k", "3", "--pretrain-dim", "64", "--target-dim", "64"];

        var cpu = CliRun.Executable([.. job, "-o", folder.Combine("cpu"), "--store", folder.Combine("cpu-store")]);
        var onnx = CliRun.Executable(OnnxKernel, [.. job, "-o", folder.Combine("onnx"), "--store", folder.Combine("onnx-store")]);

        Assert.True(cpu.ExitCode == 0, cpu.Error);
        Assert.True(onnx.ExitCode == 0, onnx.Error);
        Assert.DoesNotContain("ONNX graph", cpu.Output);
        Assert.Contains("the nearest-patch search runs as an ONNX graph on the cpu execution provider", onnx.Output);
        // clusters.csv carries each image's anomaly score (its largest patch score) next to its cluster.
        var rows = File.ReadAllText(folder.Combine("cpu", "clusters.csv"));
        Assert.Contains("anomaly_score", rows.Split('\n')[0]);
        AssertSameRowsScoresToDoubleRounding(rows, File.ReadAllText(folder.Combine("onnx", "clusters.csv")));
    }

    /// <summary>
    /// Same images, clusters and labels; scores equal to double rounding (the graph sums the chosen patch's double squares
    /// in its own order, so the last digit may differ; a different patch or a float32 distance would differ by far more).
    /// </summary>
    private static void AssertSameRowsScoresToDoubleRounding(string expected, string actual)
    {
        var expectedRows = expected.Split('\n');
        var actualRows = actual.Split('\n');
        Assert.Equal(expectedRows.Length, actualRows.Length);
        var score = Array.IndexOf(expectedRows[0].Split(','), "anomaly_score");
        for (var r = 0; r < expectedRows.Length; r++)
        {
            var (want, got) = (expectedRows[r].Split(','), actualRows[r].Split(','));
            Assert.Equal(want.Length, got.Length);
            for (var c = 0; c < want.Length; c++)
            {
                if (r == 0 || c != score || want[c].Length == 0)
                {
                    Assert.Equal(want[c], got[c]);
                    continue;
                }
                var (a, b) = (double.Parse(want[c], System.Globalization.CultureInfo.InvariantCulture), double.Parse(got[c], System.Globalization.CultureInfo.InvariantCulture));
                Assert.True(Math.Abs(a - b) <= 1e-12 * Math.Abs(a), $"row {r}: score {got[c]}, the CPU kernel's {want[c]}");
            }
        }
    }
}
