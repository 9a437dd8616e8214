using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;

namespace AnomalyClustering.Embedding.Tests.Kernels;

/// <summary>
/// The two-stage clustering's assignment graph, run here on ONNX Runtime's CPU provider (the same graph the CUDA provider
/// runs): the SIMD kernel's choices on data without near ties, the lower centre on exact ties, the same result in slices,
/// and two-stage Ward with it agreeing with two-stage Ward without it.
/// </summary>
public sealed class OnnxCentreAssignmentTests
{
    private static readonly BackboneRuntimeOptions Cpu = new() { IntraOpThreads = 1 };

    [Fact]
    public void ChoosesWhatTheSimdKernelChooses()
    {
        var random = new Random(11);
        const int count = 2003, dimension = 37, centres = 41;
        var points = RandomValues(random, count * dimension);
        var centreValues = RandomValues(random, centres * dimension);
        var expected = new int[count];
        new SimdCentreAssignment(1).Assign(points, count, dimension, centreValues, centres, expected);
        using var graph = new OnnxCentreAssignment(dimension, Cpu);
        var actual = new int[count];
        graph.Assign(points, count, dimension, centreValues, centres, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void PointsRunInSlicesGiveTheSameChoices()
    {
        var random = new Random(12);
        const int count = 101, dimension = 8, centres = 9;
        var points = RandomValues(random, count * dimension);
        var centreValues = RandomValues(random, centres * dimension);
        using var whole = new OnnxCentreAssignment(dimension, Cpu);
        // 9 centres x 4 bytes = 36 bytes a row: 7 rows a run, so 101 points take 15 runs, the last one short.
        using var sliced = new OnnxCentreAssignment(dimension, Cpu, maxProductBytes: 7 * 36);
        var expected = new int[count];
        whole.Assign(points, count, dimension, centreValues, centres, expected);
        var actual = new int[count];
        sliced.Assign(points, count, dimension, centreValues, centres, actual);
        Assert.Equal(expected, actual);
        Assert.Contains(expected, c => c > 0);
    }

    [Fact]
    public void TiesGoToTheLowerCentre()
    {
        float[] centres = [1, 1, 5, 5, 1, 1, 5, 5];
        float[] points = [1, 1, 5, 5, 3, 3, 1, 1, 5, 5];
        using var graph = new OnnxCentreAssignment(2, Cpu);
        var assignment = new int[5];
        graph.Assign(points, 5, 2, centres, 4, assignment);
        Assert.Equal([0, 1, 0, 0, 1], assignment);
    }

    [Fact]
    public void TwoStageWardWithTheGraphAgreesWithTheKernelAndSaysSo()
    {
        var random = new Random(13);
        const int count = 3000, dimension = 12, blobs = 6;
        var points = new float[count * dimension];
        for (var i = 0; i < count; i++)
        {
            for (var k = 0; k < dimension; k++)
            {
                points[i * dimension + k] = (float)((i % blobs == k % blobs ? 20 : 0) + random.NextDouble());
            }
        }
        using var graph = new OnnxCentreAssignment(dimension, Cpu);
        var withGraph = TwoStageWard.Run(points, count, dimension, 60, seed: 2, maxDegreeOfParallelism: 1, "test", graph);
        var withKernel = TwoStageWard.Run(points, count, dimension, 60, seed: 2, maxDegreeOfParallelism: 1, "test");
        Assert.Equal("test; k-means assignment: ONNX graph (MatMul + Add + ArgMin) on the cpu execution provider", withGraph.Reason);
        var agreement = ClusteringMetrics.Evaluate(withKernel.CutToClusters(blobs), withGraph.CutToClusters(blobs));
        Assert.Equal(1.0, agreement.AdjustedRandIndex, 12);
        Assert.Equal(blobs, withGraph.CutToClusters(blobs).Distinct().Count());
    }

    [Fact]
    public void RefusesAnotherDimensionAndAProviderThisBuildLacks()
    {
        using var graph = new OnnxCentreAssignment(3, Cpu);
        var error = Assert.Throws<ArgumentException>(() => graph.Assign(new float[8], 4, 2, new float[4], 2, new int[4]));
        Assert.Contains("3 values", error.Message);
        if (Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            Assert.Skip("this ONNX Runtime build has the CUDA provider (GPU package)");
        }
        // With TF32 off too: the provider's own options are only made once the provider is known to be there.
        Assert.Throws<ExecutionProviderUnavailableException>(() => new OnnxCentreAssignment(3, new BackboneRuntimeOptions { ExecutionProvider = ExecutionProviderKind.Cuda }));
        Assert.Throws<ExecutionProviderUnavailableException>(() => new OnnxCentreAssignment(3, new BackboneRuntimeOptions { ExecutionProvider = ExecutionProviderKind.Cuda, AllowTf32 = false }));
    }

    private static float[] RandomValues(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
}
