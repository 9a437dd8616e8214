using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// The nearest-patch search of the patch scores as the GPU worker runs it (<see cref="OnnxNearestPatchSearch"/> on the
/// device provider) against the SIMD kernel on every CPU core of the same machine: the scores must be the kernel's to double
/// rounding where both choose the same patch (the graph computes the chosen patch's distance in double), and the time of one image against R
/// references. First the real images' bags (each against the others), then random bags at the product's patch grid.
/// </summary>
internal static class NearestPatchCheck
{
    public static void Run(List<PatchBag> realBags, int[] referenceCounts, BackboneRuntimeOptions device, double seconds)
    {
        Compare("real bags", realBags[0], realBags.Skip(1).ToList(), device, seconds);
        var random = new Random(0);
        var (height, width, dimension) = (realBags[0].GridHeight, realBags[0].GridWidth, realBags[0].Dimension);
        PatchBag RandomBag()
        {
            var data = new float[height * width * dimension];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (float)(random.NextDouble() * 2 - 1);
            }
            return new PatchBag(data, height, width, dimension);
        }
        var query = RandomBag();
        var pool = Enumerable.Range(0, referenceCounts.Max()).Select(_ => RandomBag()).ToList();
        foreach (var references in referenceCounts)
        {
            Compare($"random bags, R = {references}", query, pool.Take(references).ToList(), device, seconds);
        }
    }

    private static void Compare(string what, PatchBag query, List<PatchBag> references, BackboneRuntimeOptions device, double seconds)
    {
        var flops = 2.0 * query.PatchCount * query.PatchCount * references.Count * query.Dimension;
        var expected = new double[query.PatchCount];
        var (cpuBest, cpuMedian, _) = DeviceChecks.Time(() => UnsupervisedPatchScores.ForImage(query, references, expected), seconds);
        using var search = OnnxNearestPatchSearch.ForGroups(references, device);
        var groups = Enumerable.Range(0, references.Count).ToArray();
        var scores = new double[query.PatchCount];
        var (best, median, runs) = DeviceChecks.Time(() => search.MeanOverGroups(query, groups, scores), seconds);
        var same = expected.Zip(scores).Count(pair => pair.First == pair.Second);
        var close = expected.Zip(scores).Count(pair => Math.Abs(pair.First - pair.Second) <= 1e-12 * pair.First);
        var largest = expected.Zip(scores).Max(pair => Math.Abs(pair.First - pair.Second) / Math.Max(pair.First, double.Epsilon));
        Console.WriteLine($"nearest-patch, {what} ({query.PatchCount} patches x {query.Dimension}, {flops / 1e9:F1} GFLOP): " +
            $"{device.ExecutionProvider} graph {median * 1e3:F2} ms median (best {best * 1e3:F2}, {runs} runs, {flops / median / 1e12:F2} TFLOP/s); " +
            $"SIMD kernel on {Environment.ProcessorCount} cores {cpuMedian * 1e3:F2} ms (best {cpuBest * 1e3:F2}); " +
            $"scores equal to the kernel's: {same} of {scores.Length}, within 1e-12: {close}, largest relative difference {largest:G3}");
    }
}
