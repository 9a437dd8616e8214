using System.Collections.Concurrent;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;
using AnomalyClustering.Grains.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>Which k-means assignment step a coordinator's two-stage clustering uses (<see cref="CoordinatorOptions.CentreAssignmentKernel"/>).</summary>
public enum CentreAssignmentKernel
{
    /// <summary>The ONNX graph when this silo's backbones run on CUDA or TensorRT (a GPU is at hand), the SIMD kernel otherwise.</summary>
    Auto,

    /// <summary>The SIMD kernel of Core on the CPU cores.</summary>
    Cpu,

    /// <summary>The ONNX graph on the backbones' execution provider, CPU included (to compare both on one machine).</summary>
    Onnx,
}

/// <summary>
/// The k-means assignment step of this silo's coordinators, for the two-stage methods a job of more than 100,000 images
/// clusters with: the SIMD kernel (null), or <see cref="OnnxCentreAssignment"/> on the silo's GPU, made on first use (only
/// a two-stage clustering assigns) once per embedding dimension and shared by the silo's jobs (its runs are thread-safe).
/// Coordinators run on CPU nodes in the Kubernetes layout, so the graph serves silos that also have a GPU (the embedded
/// CLI with <c>--execution-provider cuda</c>, a coordinator placed on a GPU node). A graph that cannot be made is logged
/// once and the SIMD kernel takes over: a job never fails for the choice.
/// </summary>
/// <remarks>
/// The graphs are not disposed: they live as long as the silo, and disposing one at shutdown while a clustering still
/// runs on it would free native memory under that run.
/// </remarks>
internal sealed class CoordinatorCentreAssignment(
    IOptions<CoordinatorOptions> coordinator, IOptions<BackboneHostOptions> backbones, ILogger<CoordinatorCentreAssignment> logger)
{
    private readonly ConcurrentDictionary<int, Lazy<OnnxCentreAssignment?>> _graphs = new();

    /// <summary>The step for embeddings of <paramref name="dimension"/> values, the SIMD kernel on <paramref name="threads"/> threads where the graph cannot be made; null for the kernel itself.</summary>
    public ICentreAssignment? For(int dimension, int threads)
    {
        var runtime = backbones.Value.Runtime;
        var useGraph = coordinator.Value.CentreAssignmentKernel switch
        {
            CentreAssignmentKernel.Onnx => true,
            CentreAssignmentKernel.Cpu => false,
            _ => runtime.ExecutionProvider != ExecutionProviderKind.Cpu,
        };
        return useGraph ? new DeferredCentreAssignment(() => (ICentreAssignment?)Graph(dimension, runtime) ?? new SimdCentreAssignment(threads)) : null;
    }

    private OnnxCentreAssignment? Graph(int dimension, BackboneRuntimeOptions runtime) =>
        _graphs.GetOrAdd(dimension, d => new Lazy<OnnxCentreAssignment?>(() => Create(d, runtime))).Value;

    private OnnxCentreAssignment? Create(int dimension, BackboneRuntimeOptions runtime)
    {
        try
        {
            // Full float32 products: on an H200 TF32 put 8,565 of a million points elsewhere than the CPU kernel, full float32 82.
            return new OnnxCentreAssignment(dimension, runtime with { AllowTf32 = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Remembered (the Lazy keeps null): one warning, then the kernel for every job of this dimension.
            logger.LogWarning(e, "The k-means assignment graph cannot run on {Provider}; the two-stage clustering uses the SIMD kernel on the CPU", runtime.ExecutionProvider);
            return null;
        }
    }
}
