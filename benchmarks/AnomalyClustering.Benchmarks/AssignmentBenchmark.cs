using System.Diagnostics;
using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Benchmarks;

/// <summary>Linear sum assignment of a random dense cost matrix (reference: `benchmarks/reference/metrics_sklearn.py assignment`).</summary>
internal sealed class AssignmentBenchmark : IBenchmark
{
    public string Name => "assignment";

    public string Description => "linear sum assignment of a random rows x columns matrix; args: [rows=1000] [columns=1000] [repeats=3]";

    public void Run(string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0]) : 1000;
        var columns = args.Length > 1 ? int.Parse(args[1]) : 1000;
        var repeats = args.Length > 2 ? int.Parse(args[2]) : 3;
        var random = new Random(12345);
        var cost = new double[rows * columns];
        for (var k = 0; k < cost.Length; k++)
        {
            cost[k] = random.NextDouble();
        }

        // Warm-up on the full problem so the timed runs measure tier-1 code, not the JIT's first tiers.
        LinearSumAssignment.Solve(cost, rows, columns);
        Thread.Sleep(200);
        Console.WriteLine($"assignment {rows} x {columns}, {Environment.ProcessorCount} cores");
        var times = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            var assignment = LinearSumAssignment.Solve(cost, rows, columns);
            times.Add(clock.Elapsed.TotalSeconds);
            Console.WriteLine($"  run {r + 1}: {times[^1]:F3} s (total cost {assignment.TotalCost:F6})");
        }
        times.Sort();
        Console.WriteLine($"  median {times[times.Count / 2]:F3} s");
    }
}
