using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Unsupervised nearest-patch distances of one image (784 patches) against R reference images of
/// 784 patches at T = 1024, through the public API; compare with benchmarks/reference/sgemm_numpy.py. Then the same
/// search as the ONNX graph GPU workers run (<see cref="OnnxNearestPatchSearch"/>), here on ONNX Runtime's CPU provider:
/// same inputs, same scores, to compare the two on one machine.
/// </summary>
internal sealed class NearestPatchBenchmark : IBenchmark
{
    public string Name => "nearest-patch";

    public string Description => "one image's 784 patches vs R reference images, T = 1024, SIMD kernel and ONNX graph on the CPU provider (args: R=16 repeats=3)";

    public void Run(string[] args)
    {
        var references = args.Length > 0 ? int.Parse(args[0]) : 16;
        var repeats = args.Length > 1 ? int.Parse(args[1]) : 3;
        const int Grid = 28;
        const int Dimension = 1024;
        var random = new Random(0);
        PatchBag RandomBag()
        {
            var data = new float[Grid * Grid * Dimension];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (float)(random.NextDouble() * 2 - 1);
            }
            return new PatchBag(data, Grid, Grid, Dimension);
        }
        var query = RandomBag();
        var bags = Enumerable.Range(0, references).Select(_ => RandomBag()).ToList();
        var sums = new double[query.PatchCount];
        var flops = 2.0 * query.PatchCount * query.PatchCount * references * Dimension;
        Console.WriteLine($"nearest-patch: M = {query.PatchCount}, R = {references}, T = {Dimension}, {flops / 1e9:F1} GFLOP per run, " +
            $"fast kernel: {NearestPatchSearch.IsFastKernelSupported}, processors: {Environment.ProcessorCount}");
        foreach (var threads in new[] { Environment.ProcessorCount, 1 }.Distinct())
        {
            NearestPatchDistances.Accumulate(query, bags.Take(1).ToList(), sums, threads); // warm-up (JIT tiers, page faults)
            var (best, bestCpu) = BestOf(repeats, () => NearestPatchDistances.Accumulate(query, bags, sums, threads));
            // GFLOP per CPU-second shows the per-core efficiency even when other work shares the cores.
            Console.WriteLine($"  threads {threads}: best of {repeats} {best * 1e3:F1} ms, {flops / best / 1e9:F1} GFLOP/s " +
                $"(cpu {bestCpu * 1e3:F0} ms, {flops / bestCpu / 1e9:F1} GFLOP per cpu-second)");
        }
        foreach (var threads in new[] { Environment.ProcessorCount, 1 }.Distinct())
        {
            using var search = OnnxNearestPatchSearch.ForGroups(bags, new BackboneRuntimeOptions { IntraOpThreads = threads });
            var groups = Enumerable.Range(0, references).ToArray();
            var scores = new double[query.PatchCount];
            search.MeanOverGroups(query, groups, scores); // warm-up (session's first run plans its buffers)
            var (best, bestCpu) = BestOf(repeats, () => search.MeanOverGroups(query, groups, scores));
            var expected = new double[query.PatchCount];
            UnsupervisedPatchScores.ForImage(query, bags, expected, threads);
            var same = expected.Zip(scores).Count(pair => pair.First == pair.Second);
            var largest = expected.Zip(scores).Max(pair => Math.Abs(pair.First - pair.Second) / pair.First);
            Console.WriteLine($"  onnx graph, CPU provider, threads {threads}: best of {repeats} {best * 1e3:F1} ms, {flops / best / 1e9:F1} GFLOP/s " +
                $"(cpu {bestCpu * 1e3:F0} ms); scores equal to the SIMD kernel's: {same} of {scores.Length}, largest relative difference {largest:G3}");
        }
    }

    /// <summary>The shortest wall time and the smallest process CPU time of <paramref name="repeats"/> runs, in seconds.</summary>
    private static (double Wall, double Cpu) BestOf(int repeats, Action run)
    {
        var (best, bestCpu) = (double.PositiveInfinity, double.PositiveInfinity);
        var process = Process.GetCurrentProcess();
        for (var r = 0; r < repeats; r++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            run();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
            process.Refresh();
            bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
        }
        return (best, bestCpu);
    }
}
