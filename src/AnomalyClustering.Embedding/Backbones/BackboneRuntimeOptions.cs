using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>Where ONNX Runtime runs a backbone.</summary>
public enum ExecutionProviderKind
{
    /// <summary>ONNX Runtime's CPU kernels (MLAS); always available.</summary>
    Cpu,
    /// <summary>NVIDIA CUDA; needs the Microsoft.ML.OnnxRuntime.Gpu package and the CUDA / cuDNN runtime.</summary>
    Cuda,
    /// <summary>NVIDIA TensorRT with CUDA as fallback for nodes TensorRT does not take; needs the GPU package and TensorRT.</summary>
    TensorRt,
}

/// <summary>How an <see cref="OnnxBackbone"/>'s ONNX Runtime session is set up: threads, execution provider, graph optimisation.</summary>
public sealed record BackboneRuntimeOptions
{
    /// <summary>The defaults: CPU, all graph optimisations, one intra-op thread per physical core.</summary>
    public static BackboneRuntimeOptions Default { get; } = new();

    /// <summary>Threads one operator may use; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads for running independent operators at once (only with <see cref="ExecutionMode.ORT_PARALLEL"/>); 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>CPU, CUDA or TensorRT.</summary>
    public ExecutionProviderKind ExecutionProvider { get; init; } = ExecutionProviderKind.Cpu;

    /// <summary>The GPU to run on for CUDA and TensorRT.</summary>
    public int DeviceId { get; init; }

    /// <summary>
    /// CUDA and TensorRT only: lets cuBLAS and cuDNN multiply float32 in TF32 on the tensor cores (ONNX Runtime's default):
    /// faster, with products of 10-bit mantissas. Off: full float32 products, as on the CPU (docs/BENCHMARKS.md, "The GPU
    /// worker on an H200", measures both).
    /// </summary>
    public bool AllowTf32 { get; init; } = true;

    /// <summary>Graph rewrites done when the session loads (constant folding, Conv+BN+ReLU fusion, layout changes).</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Operators one after another (sequential) or independent branches at once (parallel).</summary>
    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.ORT_SEQUENTIAL;

    /// <summary>Plans buffer reuse from the first run of each input shape; pays off when shapes repeat, as they do here.</summary>
    public bool EnableMemoryPattern { get; init; } = true;

    /// <summary>Keeps freed CPU buffers in an arena for the next run instead of returning them to the system.</summary>
    public bool EnableCpuMemArena { get; init; } = true;

    /// <summary>
    /// Lets idle ONNX Runtime worker threads spin for the next operator instead of sleeping: lower latency on
    /// a dedicated machine, wasted cores on a shared one (then turn it off).
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// When set, ONNX Runtime profiles every session made with these options (each node's time and execution provider,
    /// Chrome trace JSON) into a file named with this prefix, written when the session ends. For diagnosis only: it costs
    /// time on every run.
    /// </summary>
    public string? ProfileFilePrefix { get; init; }

    /// <summary>The session options these settings describe, with the execution provider appended.</summary>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA or TensorRT was asked for and this ONNX Runtime build cannot load it.</exception>
    internal SessionOptions CreateSessionOptions()
    {
        if (IntraOpThreads < 0 || InterOpThreads < 0)
        {
            throw new BackboneConfigurationException(
                $"Thread counts must be 0 (let ONNX Runtime choose) or positive; got intra-op {IntraOpThreads}, inter-op {InterOpThreads}.");
        }
        if (DeviceId < 0)
        {
            throw new BackboneConfigurationException($"DeviceId must be 0 or more; got {DeviceId}.");
        }
        var options = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = InterOpThreads,
            GraphOptimizationLevel = GraphOptimizationLevel,
            ExecutionMode = ExecutionMode,
            EnableMemoryPattern = EnableMemoryPattern,
            EnableCpuMemArena = EnableCpuMemArena,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
        };
        if (ProfileFilePrefix is { Length: > 0 } prefix)
        {
            // In this order: enabling passes the prefix set so far to ONNX Runtime.
            options.ProfileOutputPathPrefix = prefix;
            options.EnableProfiling = true;
        }
        var spinning = AllowSpinning ? "1" : "0";
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning);
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", spinning);
        try
        {
            ExecutionProviders.Append(options, ExecutionProvider, DeviceId, AllowTf32);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}
