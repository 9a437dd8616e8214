namespace AnomalyClustering.Embedding.Backbones;

/// <summary>A GPU execution provider was configured but this ONNX Runtime build or machine cannot load it.</summary>
public sealed class ExecutionProviderUnavailableException : Exception
{
    /// <summary>Creates the error for <paramref name="provider"/>, naming the native library that is missing.</summary>
    public ExecutionProviderUnavailableException(
        ExecutionProviderKind provider, string missingLibrary, IReadOnlyCollection<string> availableProviders, Exception? innerException = null)
        : base(MessageFor(provider, missingLibrary, availableProviders, innerException), innerException)
    {
        Provider = provider;
        MissingLibrary = missingLibrary;
        AvailableProviders = availableProviders;
    }

    /// <summary>The provider that was asked for.</summary>
    public ExecutionProviderKind Provider { get; }

    /// <summary>The native library ONNX Runtime needs for it (e.g. libonnxruntime_providers_cuda.so).</summary>
    public string MissingLibrary { get; }

    /// <summary>The providers this ONNX Runtime build does have (e.g. CPUExecutionProvider).</summary>
    public IReadOnlyCollection<string> AvailableProviders { get; }

    private static string MessageFor(ExecutionProviderKind provider, string library, IReadOnlyCollection<string> available, Exception? inner) =>
        // The GPU build with its libraries but no device to run on (none on the machine, or none given to the container).
        inner is not null && available.Contains("CUDAExecutionProvider") && ExecutionProviders.IsCudaFailure(inner)
            ? $"The {provider} execution provider loaded, but CUDA failed to start on the device ({FirstLine(inner.Message)}). Check that this machine or "
                + "container has an NVIDIA GPU and its driver (nvidia-smi), or set the execution provider to Cpu."
            : $"The {provider} execution provider is not available: ONNX Runtime could not load its native library {library}"
        + (inner is null ? "" : $" ({inner.GetType().Name}: {inner.Message})")
        + $". This build has only {string.Join(", ", available)}. The CPU package Microsoft.ML.OnnxRuntime ships no GPU providers: "
        + "run in the GPU worker image (Dockerfile.gpu-worker), which builds against Microsoft.ML.OnnxRuntime.Gpu with the CUDA"
        + (provider == ExecutionProviderKind.TensorRt ? ", cuDNN and TensorRT" : " and cuDNN")
        + " libraries on the library path, or set the execution provider to Cpu.";

    // ONNX Runtime's CUDA errors carry the source location and call first; the cause ("no CUDA-capable device") is in them.
    private static string FirstLine(string message)
    {
        var at = message.IndexOf("CUDA failure", StringComparison.OrdinalIgnoreCase);
        var text = at >= 0 ? message[at..] : message;
        var end = text.IndexOfAny(['\n', ';']);
        return (end > 0 ? text[..end] : text).Trim();
    }
}
