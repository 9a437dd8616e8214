using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// The two-stage clustering's k-means assignment as a GPU worker would run it (<see cref="OnnxCentreAssignment"/> on the
/// device provider) against the SIMD kernel on every CPU core of the same machine, on a simulated job: a seeded Gaussian
/// mixture standing in for a million image embeddings (generated here, because a million real embeddings do not fit a
/// transfer to the GPU machine). First one assignment pass against the default number of micro-clusters (the step's time
/// and how many choices differ), then the whole two-stage Ward with each step (time, and ARI between the two results and
/// against the mixture's components).
/// </summary>
internal static class CentreAssignmentCheck
{
    public static void Run(int count, int dimension, int components, BackboneRuntimeOptions device, double seconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (points, truth) = Mixture(count, dimension, components, seed: 1);
        var threads = Environment.ProcessorCount;
        Console.WriteLine($"centre assignment: simulated job of {count:N0} x {dimension} (a mixture of {components} Gaussians, generated in {clock.Elapsed.TotalSeconds:F1} s), {threads} CPU cores");

        var centreCount = Math.Min(count, TwoStageWard.DefaultMicroClusterCount);
        var centres = points.AsSpan(0, centreCount * dimension).ToArray();
        var flops = 2.0 * count * centreCount * dimension;
        var simd = new SimdCentreAssignment(threads);
        var expected = new int[count];
        var (cpuBest, cpuMedian, cpuRuns) = DeviceChecks.Time(() => simd.Assign(points, count, dimension, centres, centreCount, expected), seconds);
        using var graph = new OnnxCentreAssignment(dimension, device);
        var actual = new int[count];
        var (best, median, runs) = DeviceChecks.Time(() => graph.Assign(points, count, dimension, centres, centreCount, actual), seconds);
        var differing = expected.Zip(actual).Count(pair => pair.First != pair.Second);
        Console.WriteLine($"  one pass against {centreCount:N0} centres ({flops / 1e12:F2} TFLOP): {device.ExecutionProvider} graph {median:F3} s median (best {best:F3}, {runs} runs, " +
            $"{flops / median / 1e12:F1} TFLOP/s); SIMD kernel on {threads} cores {cpuMedian:F3} s (best {cpuBest:F3}, {cpuRuns} runs, {flops / cpuMedian / 1e12:F2} TFLOP/s); " +
            $"choices differing: {differing:N0} of {count:N0}");

        var kernelTree = Timed(() => TwoStageWard.Run(points, count, dimension, TwoStageWard.DefaultMicroClusterCount, seed: 0, threads, "check"), out var kernelSeconds);
        var graphTree = Timed(() => TwoStageWard.Run(points, count, dimension, TwoStageWard.DefaultMicroClusterCount, seed: 0, threads, "check", graph), out var graphSeconds);
        var kernelLabels = kernelTree.CutToClusters(components);
        var graphLabels = graphTree.CutToClusters(components);
        Console.WriteLine($"  two-stage Ward (k-means++ seeding and Lloyd passes, then Ward on {graphTree.Tree.PointCount:N0} micro-clusters): with the graph {graphSeconds:F1} s, " +
            $"with the SIMD kernel {kernelSeconds:F1} s; K = {components}: ARI between them {ClusteringMetrics.Evaluate(kernelLabels, graphLabels).AdjustedRandIndex:F4}, " +
            $"against the components {ClusteringMetrics.Evaluate(truth, graphLabels).AdjustedRandIndex:F4} (graph) / {ClusteringMetrics.Evaluate(truth, kernelLabels).AdjustedRandIndex:F4} (kernel)");
    }

    private static T Timed<T>(Func<T> run, out double seconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = run();
        seconds = clock.Elapsed.TotalSeconds;
        return result;
    }

    /// <summary>Components' centres drawn with spread 4 per axis, unit normal noise around them; rows generated in parallel blocks, each from its own seed.</summary>
    private static (float[] Points, int[] Truth) Mixture(int count, int dimension, int components, int seed)
    {
        var centreRandom = new Random(seed);
        var centres = new double[components * dimension];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = 4 * Normal(centreRandom);
        }
        var points = new float[(long)count * dimension];
        var truth = new int[count];
        const int block = 4096;
        Parallel.For(0, (count + block - 1) / block, b =>
        {
            var random = new Random(seed * 7919 + b);
            for (var i = b * block; i < Math.Min(count, (b + 1) * block); i++)
            {
                var component = random.Next(components);
                truth[i] = component;
                for (var k = 0; k < dimension; k++)
                {
                    points[(long)i * dimension + k] = (float)(centres[component * dimension + k] + Normal(random));
                }
            }
        });
        return (points, truth);
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
