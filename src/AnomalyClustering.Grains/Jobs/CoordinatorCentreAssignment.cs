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
/// clusters with: the SIMD kernel (null), or <see cref="OnnxCentreAssignment"/> on the silo's GPU, made once per embedding
/// dimension and shared by the silo's jobs. Coordinators run on CPU nodes in the Kubernetes layout, so the graph serves
/// silos that also have a GPU (the embedded CLI with <c>--execution-provider cuda</c>, a coordinator placed on a GPU
/// node). A provider that cannot load is logged once and the kernel takes over: a job never fails for the choice.
/// </summary>
internal sealed class CoordinatorCentreAssignment(
    IOptions<CoordinatorOptions> coordinator, IOptions<BackboneHostOptions> backbones, ILogger<CoordinatorCentreAssignment> logger) : IDisposable
{
    private readonly ConcurrentDictionary<int, Lazy<OnnxCentreAssignment?>> _graphs = new();

    /// <summary>The step for embeddings of <paramref name="dimension"/> values; null for the SIMD kernel.</summary>
    public ICentreAssignment? For(int dimension)
    {
        var runtime = backbones.Value.Runtime;
        var useGraph = coordinator.Value.CentreAssignmentKernel switch
        {
            CentreAssignmentKernel.Onnx => true,
            CentreAssignmentKernel.Cpu => false,
            _ => runtime.ExecutionProvider != ExecutionProviderKind.Cpu,
        };
        return useGraph ? _graphs.GetOrAdd(dimension, d => new Lazy<OnnxCentreAssignment?>(() => Create(d, runtime))).Value : null;
    }

    private OnnxCentreAssignment? Create(int dimension, BackboneRuntimeOptions runtime)
    {
        try
        {
            // Full float32 products: on an H200 TF32 put 8,565 of a million points elsewhere than the CPU kernel, full float32 82.
            return new OnnxCentreAssignment(dimension, runtime with { AllowTf32 = false });
        }
        catch (ExecutionProviderUnavailableException e)
        {
            logger.LogWarning(e, "The k-means assignment graph cannot run on {Provider}; the two-stage clustering uses the SIMD kernel on the CPU", runtime.ExecutionProvider);
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var graph in _graphs.Values)
        {
            if (graph.IsValueCreated)
            {
                graph.Value?.Dispose();
            }
        }
    }
}
