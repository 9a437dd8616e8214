using System.Diagnostics;
using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// NMI + ARI + Hungarian F1 of N labelled items (the same work as benchmarks/reference/metrics_sklearn.py:
/// normalized_mutual_info_score, adjusted_rand_score, contingency_matrix + linear_sum_assignment).
/// </summary>
internal sealed class MetricsBenchmark : IBenchmark
{
    public string Name => "metrics";

    public string Description => "NMI + ARI + Hungarian F1 of N items; args: [N=1000000] [classes=15] [clusters=15] [repeats=3]";

    public void Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        var classes = args.Length > 1 ? int.Parse(args[1]) : 15;
        var clusters = args.Length > 2 ? int.Parse(args[2]) : 15;
        var repeats = args.Length > 3 ? int.Parse(args[3]) : 3;

        // A clustering that is right for about 70% of the items, the rest at random.
        var random = new Random(12345);
        var trueLabels = new int[count];
        var predicted = new int[count];
        for (var i = 0; i < count; i++)
        {
            trueLabels[i] = random.Next(classes);
            predicted[i] = random.NextDouble() < 0.7 ? trueLabels[i] % clusters : random.Next(clusters);
        }

        // Warm-up on the full problem so the timed runs measure tier-1 code, not the JIT's first tiers.
        ClusteringMetrics.Evaluate(trueLabels, predicted);
        Thread.Sleep(200);
        Console.WriteLine($"metrics N={count} classes={classes} clusters={clusters}, {Environment.ProcessorCount} cores");
        var times = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            var scores = ClusteringMetrics.Evaluate(trueLabels, predicted);
            times.Add(clock.Elapsed.TotalSeconds);
            Console.WriteLine($"  run {r + 1}: {times[^1]:F3} s (NMI {scores.NormalizedMutualInformation:F6}, ARI {scores.AdjustedRandIndex:F6}, F1 {scores.HungarianF1:F6})");
        }
        times.Sort();
        Console.WriteLine($"  median {times[times.Count / 2]:F3} s");
    }
}
