using AnomalyClustering.Embedding.Backbones;

namespace AnomalyClustering.Embedding.Kernels;

/// <summary>Where the small kernel graphs (nearest patch, centre assignment) run, given the backbone's runtime options.</summary>
internal static class SmallGraphRuntime
{
    /// <summary>
    /// The options as given, except that TensorRT becomes CUDA: ONNX Runtime's TensorRT provider offers no switch for the
    /// TF32 its builder uses by default (the CUDA provider's <c>use_tf32</c> does), and a graph of a MatMul and a few
    /// reductions gains nothing from a TensorRT engine built for it.
    /// </summary>
    public static BackboneRuntimeOptions For(BackboneRuntimeOptions runtime) =>
        runtime.ExecutionProvider == ExecutionProviderKind.TensorRt ? runtime with { ExecutionProvider = ExecutionProviderKind.Cuda } : runtime;
}
