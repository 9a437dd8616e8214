using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The coordinators' k-means assignment step of the two-stage clustering: the SIMD kernel unless a GPU is at hand (or the
/// graph is asked for), a provider that cannot load falls back to the kernel instead of failing jobs, and a real job run
/// with the graph (on ONNX Runtime's CPU provider here) says so in its result.
/// </summary>
public sealed class CoordinatorCentreAssignmentTests
{
    [Fact]
    public void TheGraphServesOnlyWhereAGpuIsAtHandOrItIsAskedForAndAProviderThatCannotLoadFallsBack()
    {
        var random = new Random(5);
        var points = Enumerable.Range(0, 40 * 16).Select(_ => (float)random.NextDouble()).ToArray();
        var centres = points.AsSpan(0, 3 * 16).ToArray();
        string Used(ICentreAssignment step)
        {
            // The step is made on first use: its description says which one ran.
            step.Assign(points, 40, 16, centres, 3, new int[40]);
            return step.Description;
        }

        Assert.Null(Service(CentreAssignmentKernel.Auto, ExecutionProviderKind.Cpu).For(16, 1));
        Assert.Null(Service(CentreAssignmentKernel.Cpu, ExecutionProviderKind.Cuda).For(16, 1));
        var forced = Service(CentreAssignmentKernel.Onnx, ExecutionProviderKind.Cpu);
        Assert.Equal("ONNX graph (MatMul + Add + ArgMin) on the cpu execution provider", Used(forced.For(16, 1)!));
        if (!Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            // A silo configured for CUDA in a build (or on a machine) without it: the kernel, not a failed job.
            Assert.Equal("SIMD kernel, 2 threads", Used(Service(CentreAssignmentKernel.Auto, ExecutionProviderKind.Cuda).For(16, 2)!));
        }
    }

    [Fact]
    public async Task AJobClusteredInTwoStagesUsesTheGraphAndItsResultSaysSo()
    {
        var storeFolder = Path.Combine(Path.GetTempPath(), "ac-centre-assignment-" + Guid.NewGuid().ToString("n"));
        var store = new LocalDirectoryBlobStore(storeFolder);
        var cluster = await OneSiloCluster.StartAsync(store, services =>
        {
            services.Configure<CoordinatorOptions>(options => options.CentreAssignmentKernel = CentreAssignmentKernel.Onnx);
            services.Configure<JobRetentionOptions>(options => options.Enabled = false);
        });
        try
        {
            var data = await DemoDataset.CreateAsync(store, seed: 151, imagesPerClass: 3, normals: 2);
            var status = await JobRuns.RunAsync(cluster.Client, store, "two-stage-on-graph", data.Job(new JobOptions { Algorithm = "two-stage-ward" }));
            var result = await JobRuns.ResultAsync(store, status);
            Assert.Equal(Core.Clustering.ClusteringAlgorithm.TwoStageWard, result.Algorithm);
            Assert.Contains("k-means assignment: ONNX graph (MatMul + Add + ArgMin) on the cpu execution provider", result.AlgorithmReason);
        }
        finally
        {
            await cluster.StopAllSilosAsync(TestContext.Current.CancellationToken);
            await cluster.DisposeAsync();
            try
            {
                Directory.Delete(storeFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static CoordinatorCentreAssignment Service(CentreAssignmentKernel kernel, ExecutionProviderKind provider) => new(
        Options.Create(new CoordinatorOptions { CentreAssignmentKernel = kernel }),
        Options.Create(new BackboneHostOptions { ExecutionProvider = provider, IntraOpThreads = 1 }),
        NullLogger<CoordinatorCentreAssignment>.Instance);
}
