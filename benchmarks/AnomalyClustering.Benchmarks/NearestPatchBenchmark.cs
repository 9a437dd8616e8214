using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Unsupervised nearest-patch distances of one image (784 patches) against R reference images of
/// 784 patches at T = 1024, through the public API; compare with benchmarks/reference/sgemm_numpy.py.
/// </summary>
internal sealed class NearestPatchBenchmark : IBenchmark
{
    public string Name => "nearest-patch";

    public string Description => "one image's 784 patches vs R reference images, T = 1024 (args: R=16 repeats=3)";

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
            var best = double.PositiveInfinity;
            var bestCpu = double.PositiveInfinity;
            var process = Process.GetCurrentProcess();
            for (var r = 0; r < repeats; r++)
            {
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                NearestPatchDistances.Accumulate(query, bags, sums, threads);
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
                process.Refresh();
                bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
            }
            // GFLOP per CPU-second shows the per-core efficiency even when other work shares the cores.
            Console.WriteLine($"  threads {threads}: best of {repeats} {best * 1e3:F1} ms, {flops / best / 1e9:F1} GFLOP/s " +
                $"(cpu {bestCpu * 1e3:F0} ms, {flops / bestCpu / 1e9:F1} GFLOP per cpu-second)");
        }
    }
}
