using AnomalyClustering.Embedding.Backbones;
using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Tests.Backbones;

public class OnnxBackboneTests
{
    [Fact]
    public void ReproducesTorchsFeatureMapsOfTheTinyBackbone()
    {
        var input = TinyBackboneFixture.Input;
        using var backbone = new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath));

        var output = backbone.Run(input.ToSingles(), batchSize: 2);

        Assert.Equal(2, output.BatchSize);
        var stride8 = output["stride8"];
        Assert.Equal((32, 14, 14), (stride8.Channels, stride8.Height, stride8.Width));
        Assert.Equal((64, 7, 7), (output.Layers[1].Channels, output.Layers[1].Height, output.Layers[1].Width));
        TinyBackboneFixture.AssertCloseToTorch(TinyBackboneFixture.Stride8.ToDoubles(), stride8.Data, "stride8");
        TinyBackboneFixture.AssertCloseToTorch(TinyBackboneFixture.Stride16.ToDoubles(), output["stride16"].Data, "stride16");
        Assert.Equal(backbone.Description.ComputeIdentity(), backbone.Identity);
    }

    [Fact]
    public void WritesLaterBatchesIntoTheBuffersItIsGiven()
    {
        var input = TinyBackboneFixture.Input.ToSingles();
        using var backbone = new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath));

        var first = backbone.Run(input, 2, 112, 112);           // learns the output shapes (ORT-allocated, copied)
        var firstCopy = first.Layers.Select(l => l.Data.ToArray()).ToList();
        var second = backbone.Run(input, 2, 112, 112);          // straight into new buffers
        var buffers = second.Layers.Select(l => l.Data).ToList();
        Array.Clear(buffers[0]);
        var third = backbone.Run(input, 2, 112, 112, reuse: second);

        Assert.Same(second, third);
        Assert.Same(buffers[0], third.Layers[0].Data);
        Assert.Equal(firstCopy[0], third.Layers[0].Data);
        Assert.Equal(firstCopy[1], third.Layers[1].Data);

        // A buffer of another batch size is not reused; image 1 alone gives image 1's maps.
        var single = backbone.Run(input.AsSpan(3 * 112 * 112), 1, 112, 112, reuse: second);
        Assert.NotSame(second, single);
        TinyBackboneFixture.AssertCloseToTorch(
            TinyBackboneFixture.Stride8.ToDoubles()[(32 * 14 * 14)..], single["stride8"].Image(0).Span, "stride8 of image 1 alone");
        Assert.Equal(first["stride8"].Data[(32 * 14 * 14)..], first["stride8"].Image(1).ToArray());
    }

    [Fact]
    public void ExposesInternalFeatureOutputsByItself()
    {
        var description = BackboneDescription.Load(TinyBackboneFixture.DescriptionPath) with
        {
            FeatureOutputs = [TinyBackboneFixture.StemRelu, "stride8"],
        };
        using var backbone = new OnnxBackbone(description);

        var output = backbone.Run(TinyBackboneFixture.Input.ToSingles(), 2);

        Assert.Equal(TinyBackboneFixture.StemReluShape[1..], new[] { output.Layers[0].Channels, output.Layers[0].Height, output.Layers[0].Width });
        Assert.True(output.Layers[0].Data.All(v => v >= 0), "a ReLU output is never negative");
        TinyBackboneFixture.AssertCloseToTorch(TinyBackboneFixture.Stride8.ToDoubles(), output["stride8"].Data, "stride8");
    }

    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL, ExecutionMode.ORT_SEQUENTIAL, 1, false, true)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_BASIC, ExecutionMode.ORT_PARALLEL, 2, true, false)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode.ORT_SEQUENTIAL, 2, true, true)]
    public void GivesTheSameMapsUnderEverySessionSetting(GraphOptimizationLevel level, ExecutionMode mode, int threads, bool memoryPattern, bool spinning)
    {
        var options = new BackboneRuntimeOptions
        {
            GraphOptimizationLevel = level,
            ExecutionMode = mode,
            IntraOpThreads = threads,
            InterOpThreads = mode == ExecutionMode.ORT_PARALLEL ? 2 : 0,
            EnableMemoryPattern = memoryPattern,
            AllowSpinning = spinning,
        };
        using var backbone = new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath), options);

        var output = backbone.Run(TinyBackboneFixture.Input.ToSingles(), 2);

        TinyBackboneFixture.AssertCloseToTorch(TinyBackboneFixture.Stride16.ToDoubles(), output["stride16"].Data, $"stride16 at {level}");
    }

    [Fact]
    public void RejectsBatchesThatDoNotMatchTheirSizes()
    {
        using var backbone = new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath));
        var input = TinyBackboneFixture.Input.ToSingles();

        var e = Assert.Throws<ArgumentException>(() => backbone.Run(input, 3));
        Assert.Contains("3 x 3 x 112 x 112", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => backbone.Run(input, 0));
        Assert.Throws<KeyNotFoundException>(() => backbone.Run(input, 2)["layer2"]);
        backbone.Dispose();
        Assert.Throws<ObjectDisposedException>(() => backbone.Run(input, 2));
    }

    [Theory]
    [InlineData(ExecutionProviderKind.Cuda, "libonnxruntime_providers_cuda.so")]
    [InlineData(ExecutionProviderKind.TensorRt, "libonnxruntime_providers_tensorrt.so")]
    public void NamesTheMissingProviderLibraryWhenAGpuProviderIsAskedFor(ExecutionProviderKind provider, string library)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("library names checked here are Linux's");
        }
        if (OrtEnv.Instance().GetAvailableProviders().Contains(provider == ExecutionProviderKind.Cuda ? "CUDAExecutionProvider" : "TensorrtExecutionProvider"))
        {
            Assert.Skip("this ONNX Runtime build has the provider (GPU package)");
        }

        var e = Assert.Throws<ExecutionProviderUnavailableException>(
            () => new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath), new BackboneRuntimeOptions { ExecutionProvider = provider }));

        Assert.Equal(provider, e.Provider);
        Assert.Equal(library, e.MissingLibrary);
        Assert.Contains(library, e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message);
        Assert.Contains("CPUExecutionProvider", e.Message);
    }

    [Fact]
    public void AGpuBuildWithoutAUsableDeviceSaysSoInsteadOfNamingAMissingLibrary()
    {
        // What ONNX Runtime GPU 1.31 threw on an H200 machine with CUDA_VISIBLE_DEVICES empty (the call site first).
        var cuda = new InvalidOperationException(
            "[ErrorCode:Fail] /onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:154 CudaCall ... CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=gpu-1 ; expr=cudaSetDevice(info_.device_id);");
        var e = new ExecutionProviderUnavailableException(ExecutionProviderKind.Cuda, "libonnxruntime_providers_cuda.so", ["CUDAExecutionProvider", "CPUExecutionProvider"], cuda);
        Assert.Contains("loaded, but CUDA failed to start on the device (CUDA failure 100: no CUDA-capable device is detected)", e.Message);
        Assert.DoesNotContain("could not load its native library", e.Message);
        // The CPU package has no CUDA provider at all: the missing library is named.
        var missing = new ExecutionProviderUnavailableException(ExecutionProviderKind.Cuda, "libonnxruntime_providers_cuda.so", ["CPUExecutionProvider"], cuda);
        Assert.Contains("could not load its native library libonnxruntime_providers_cuda.so", missing.Message);
    }
}
