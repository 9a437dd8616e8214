using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>Appends the configured execution provider to session options, turning "not in this build" into a typed error.</summary>
internal static class ExecutionProviders
{
    private const string CudaProvider = "CUDAExecutionProvider";
    private const string TensorRtProvider = "TensorrtExecutionProvider";

    /// <summary>Appends CUDA, or TensorRT then CUDA (TensorRT leaves unsupported nodes to CUDA); nothing for CPU. <paramref name="allowTf32"/> false turns CUDA's TF32 off.</summary>
    public static void Append(SessionOptions options, ExecutionProviderKind provider, int deviceId, bool allowTf32 = true)
    {
        switch (provider)
        {
            case ExecutionProviderKind.Cpu:
                return;
            case ExecutionProviderKind.Cuda:
                AppendOne(options, ExecutionProviderKind.Cuda, CudaProvider, LibraryFor(ExecutionProviderKind.Cuda), () => AppendCuda(options, deviceId, allowTf32));
                return;
            case ExecutionProviderKind.TensorRt:
                AppendOne(options, ExecutionProviderKind.TensorRt, TensorRtProvider, LibraryFor(ExecutionProviderKind.TensorRt),
                    () => options.AppendExecutionProvider_Tensorrt(deviceId));
                AppendOne(options, ExecutionProviderKind.TensorRt, CudaProvider, LibraryFor(ExecutionProviderKind.Cuda), () => AppendCuda(options, deviceId, allowTf32));
                return;
            default:
                throw new BackboneConfigurationException($"Unknown execution provider {provider}; use Cpu, Cuda or TensorRt.");
        }
    }

    private static void AppendCuda(SessionOptions options, int deviceId, bool allowTf32)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["use_tf32"] = allowTf32 ? "1" : "0",
        });
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>
    /// Creates a session on <paramref name="provider"/>; a failure inside CUDA while it starts (no device visible, a driver
    /// too old) becomes <see cref="ExecutionProviderUnavailableException"/>: the provider library loaded, the device did not.
    /// </summary>
    public static InferenceSession CreateSession(byte[] model, SessionOptions options, ExecutionProviderKind provider)
    {
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e) when (provider != ExecutionProviderKind.Cpu && IsCudaFailure(e))
        {
            throw new ExecutionProviderUnavailableException(provider, LibraryFor(provider), OrtEnv.Instance().GetAvailableProviders(), e);
        }
    }

    /// <summary>Whether ONNX Runtime's error came from a CUDA call (its messages say "CUDA failure N: ..." or name the cudaError).</summary>
    public static bool IsCudaFailure(Exception e) =>
        e.Message.Contains("CUDA failure", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("cudaError", StringComparison.Ordinal);

    /// <summary>The provider's native library as the operating system names it.</summary>
    public static string LibraryFor(ExecutionProviderKind provider)
    {
        var stem = provider == ExecutionProviderKind.TensorRt ? "onnxruntime_providers_tensorrt" : "onnxruntime_providers_cuda";
        return OperatingSystem.IsWindows() ? stem + ".dll" : OperatingSystem.IsMacOS() ? "lib" + stem + ".dylib" : "lib" + stem + ".so";
    }

    private static void AppendOne(SessionOptions options, ExecutionProviderKind asked, string providerName, string library, Action append)
    {
        var available = OrtEnv.Instance().GetAvailableProviders();
        // The CPU package does not even export the append entry points; checking first gives the clear error
        // instead of an EntryPointNotFoundException.
        if (!available.Contains(providerName))
        {
            throw new ExecutionProviderUnavailableException(asked, library, available);
        }
        try
        {
            append();
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // The GPU package lists the provider but fails here when the provider library or CUDA itself cannot be loaded.
            throw new ExecutionProviderUnavailableException(asked, library, available, e);
        }
    }
}
