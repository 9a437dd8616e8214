using System.Diagnostics;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Interop;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Exact linear-memory Ward and two-stage Ward on an N x D float32 .npy (benchmarks/reference/ward_mixture.py makes
/// Gaussian mixtures), timed in process; the anchors (fastcluster.linkage_vector, Birch) are in
/// benchmarks/reference/ward_agreement.py.
/// </summary>
internal sealed class WardBenchmark : IBenchmark
{
    public string Name => "ward";

    public string Description => "exact linear-memory Ward and two-stage Ward of an .npy; args: X.npy [which=both|exact|two-stage|counts (exact, with what its scans did)] [threads=all] [micro-clusters=2048]";

    public void Run(string[] args)
    {
        float[] points;
        int count, dimension;
        using (var stream = File.OpenRead(args[0]))
        {
            points = NpyArray.ReadSingleMatrix(stream, out count, out dimension);
        }
        var which = args.Length > 1 ? args[1] : "both";
        var threads = args.Length > 2 ? int.Parse(args[2]) : Environment.ProcessorCount;
        var micro = args.Length > 3 ? int.Parse(args[3]) : TwoStageWard.DefaultMicroClusterCount;
        Console.WriteLine($"ward N={count} D={dimension}, {threads} threads, {Environment.ProcessorCount} cores");

        // Warm-up on a small slice so the timed runs measure compiled code, not the JIT.
        LinearMemoryWard.Linkage(points.AsSpan(0, Math.Min(count, 300) * dimension), Math.Min(count, 300), dimension, threads);

        if (which is "both" or "exact")
        {
            var clock = Stopwatch.StartNew();
            var tree = LinearMemoryWard.Linkage(points, count, dimension, threads);
            Console.WriteLine($"  linear-memory Ward: {clock.Elapsed.TotalSeconds:F1} s, root height {tree.LinkageMatrix[^1].Height:G8}");
        }
        if (which is "counts")
        {
            // The exact chain on float points as LinearMemoryWard runs it, with what its scans did.
            var counts = new ScanCounts();
            var clock = Stopwatch.StartNew();
            var merges = CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, count, dimension), Enumerable.Repeat(1L, count).ToArray(), threads, CentroidWardChain.DefaultParallelScanThreshold, counts);
            var tree = MergeTree.FromUnsorted(merges);
            Console.WriteLine($"  linear-memory Ward: {clock.Elapsed.TotalSeconds:F1} s, root height {tree.LinkageMatrix[^1].Height:G8}; {counts.Scans} scans ({counts.TopScans} of upper halves, {counts.SplitScans} split), {counts.RowsRead} rows read, {counts.ExactDistances} exact distances");
        }
        if (which is "both" or "two-stage")
        {
            var clock = Stopwatch.StartNew();
            var tree = TwoStageWard.Run(points, count, dimension, micro, seed: 0, threads, "benchmark");
            Console.WriteLine($"  two-stage Ward ({tree.Tree.PointCount} micro-clusters): {clock.Elapsed.TotalSeconds:F1} s, root height {tree.Tree.LinkageMatrix[^1].Height:G8}");
        }
        var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine($"  peak working set {process.PeakWorkingSet64 / 1e9:F2} GB (input {4.0 * count * dimension / 1e9:F2} GB as float32, read from a {new FileInfo(args[0]).Length / 1e9:F2} GB file held in memory)");
    }
}
