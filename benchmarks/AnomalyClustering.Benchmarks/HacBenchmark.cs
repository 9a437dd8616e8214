using System.Diagnostics;
using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Exact agglomerative clustering of random points: Euclidean condensed distances plus linkage,
/// timed as one (the same work as <c>fastcluster.linkage(X, method)</c>, benchmarks/reference/hac_fastcluster.py).
/// </summary>
internal sealed class HacBenchmark : IBenchmark
{
    public string Name => "hac";

    public string Description => "distances + linkage of N random D-dim points; args: [method=ward] [N=10000] [D=256] [repeats=1]";

    public void Run(string[] args)
    {
        var method = args.Length > 0 ? Enum.Parse<LinkageMethod>(args[0], ignoreCase: true) : LinkageMethod.Ward;
        var count = args.Length > 1 ? int.Parse(args[1]) : 10_000;
        var dimension = args.Length > 2 ? int.Parse(args[2]) : 256;
        var repeats = args.Length > 3 ? int.Parse(args[3]) : 1;

        // Standard normal float32 points from a fixed seed (Box-Muller), like the reference's rng.standard_normal.
        var random = new Random(12345);
        var points = new float[(long)count * dimension];
        for (var i = 0; i < points.Length; i += 2)
        {
            var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var angle = 2 * Math.PI * random.NextDouble();
            points[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < points.Length)
            {
                points[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }

        // Warm-up on a small problem so the timed run measures compiled code, not the JIT.
        HierarchicalClustering.Linkage(points.AsSpan(0, 500 * dimension), 500, dimension, method);

        Console.WriteLine($"hac {method.ToString().ToLowerInvariant()} N={count} D={dimension}, {Environment.ProcessorCount} cores");
        var totals = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            GC.Collect();
            var clock = Stopwatch.StartNew();
            var distances = CondensedDistanceMatrix.FromPoints(points, count, dimension);
            var distanceSeconds = clock.Elapsed.TotalSeconds;
            var tree = HierarchicalClustering.LinkageInPlace(distances, method);
            var total = clock.Elapsed.TotalSeconds;
            totals.Add(total);
            Console.WriteLine($"  run {r + 1}: {total:F3} s  (distances {distanceSeconds:F3} s, linkage {total - distanceSeconds:F3} s; root height {tree.LinkageMatrix[^1].Height:G6})");
        }
        totals.Sort();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine($"  median {totals[totals.Count / 2]:F3} s");
        Console.WriteLine($"  peak working set {process.PeakWorkingSet64 / 1e9:F2} GB, GC peak committed {gc.TotalCommittedBytes / 1e9:F2} GB, condensed matrix {CondensedDistanceMatrix.LengthFor(count) * 8 / 1e9:F2} GB");
    }
}
