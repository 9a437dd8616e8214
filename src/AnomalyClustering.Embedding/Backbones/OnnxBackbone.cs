using AnomalyClustering.Core.Embeddings;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using AnomalyClustering.Embedding.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>
/// A backbone described by a <see cref="BackboneDescription"/>, running in one ONNX Runtime session that
/// is reused for every batch. <see cref="Run(ReadOnlySpan{float}, int, int, int, BackboneOutput?)"/> is
/// safe to call from several threads at once (give each its own reuse buffer).
/// </summary>
public sealed class OnnxBackbone : IDisposable
{
    private readonly OnnxSession _onnx;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _inputChannels;
    private readonly long? _fixedHeight;
    private readonly long? _fixedWidth;
    // Output shapes per input (height, width), learnt from the first batch of that size; later batches
    // are written straight into caller-visible buffers instead of being copied out of ORT's.
    private readonly ConcurrentDictionary<(int Height, int Width), FeatureMapShape[]> _shapes = new();

    /// <summary>
    /// Validates the description against its model, exposes feature outputs that are internal tensors,
    /// and opens the session. Cost: one read, hash and parse of the model, plus ONNX Runtime's load.
    /// </summary>
    /// <exception cref="BackboneConfigurationException">The description does not match its model, or ONNX Runtime cannot load it.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">A GPU provider was asked for and cannot be loaded.</exception>
    public OnnxBackbone(BackboneDescription description, BackboneRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(description);
        Description = description;
        Options = options ?? BackboneRuntimeOptions.Default;
        var resolved = description.Resolve();
        Identity = description.IdentityFor(SHA256.HashData(resolved.ModelBytes));

        var input = resolved.Signature.FindInput(description.InputName)!;
        _inputChannels = input.Shape?[1].Value is long channels ? (int)channels : 3;
        _fixedHeight = input.Shape?[2].Value;
        _fixedWidth = input.Shape?[3].Value;
        _inputNames = [description.InputName];
        _outputNames = [.. description.FeatureOutputs];

        var model = resolved.TensorsToExpose.Count > 0
            ? OnnxGraphEditor.ExposeTensors(resolved.ModelBytes, resolved.TensorsToExpose)
            : resolved.ModelBytes;
        using var sessionOptions = Options.CreateSessionOptions();
        try
        {
            _onnx = new OnnxSession(ExecutionProviders.CreateSession(model, sessionOptions, Options.ExecutionProvider));
        }
        catch (OnnxRuntimeException e)
        {
            throw new BackboneConfigurationException(
                $"ONNX Runtime could not load model '{description.ModelPath}' of backbone '{description.Name}' "
                + $"with the {Options.ExecutionProvider} execution provider: {e.Message}", e);
        }
    }

    /// <summary>The description the backbone was opened from.</summary>
    public BackboneDescription Description { get; }

    /// <summary>The session settings it runs with.</summary>
    public BackboneRuntimeOptions Options { get; }

    /// <summary>The feature-cache key: <see cref="BackboneDescription.ComputeIdentity"/> of the model that was loaded.</summary>
    public string Identity { get; }

    /// <summary>The feature output names, in the order of <see cref="BackboneOutput.Layers"/>.</summary>
    public IReadOnlyList<string> FeatureOutputs => _outputNames;

    /// <summary>Channels the input takes (3 for RGB backbones).</summary>
    public int InputChannels => _inputChannels;

    /// <summary>Runs a batch of preprocessed crops of the description's crop size; see the overload with explicit height and width.</summary>
    public BackboneOutput Run(ReadOnlySpan<float> batchNchw, int batchSize) =>
        Run(batchNchw, batchSize, Description.Preprocessing.CropHeight, Description.Preprocessing.CropWidth);

    /// <summary>
    /// Runs one batch: <paramref name="batchNchw"/> holds <paramref name="batchSize"/> preprocessed images,
    /// float32 NCHW (N x <see cref="InputChannels"/> x height x width), read in place without a copy.
    /// Returns every feature output for every image. When <paramref name="reuse"/> has the shapes this
    /// batch produces, the maps are written into its buffers and it is returned (no large allocation);
    /// otherwise new buffers are allocated.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes do not match the span or the model's fixed input size.</exception>
    public unsafe BackboneOutput Run(ReadOnlySpan<float> batchNchw, int batchSize, int height, int width, BackboneOutput? reuse = null)
    {
        ObjectDisposedException.ThrowIf(_onnx.IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if ((_fixedHeight is long fh && fh != height) || (_fixedWidth is long fw && fw != width))
        {
            throw new ArgumentException(
                $"Backbone '{Description.Name}' takes only {_fixedHeight}x{_fixedWidth} inputs (fixed in the model); got {height}x{width}.");
        }
        long expected = (long)batchSize * _inputChannels * height * width;
        if (batchNchw.Length != expected)
        {
            throw new ArgumentException(
                $"The batch holds {batchNchw.Length} floats; {batchSize} x {_inputChannels} x {height} x {width} = {expected} expected.",
                nameof(batchNchw));
        }

        long[] inputShape = [batchSize, _inputChannels, height, width];
        fixed (float* data = batchNchw)
        {
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, inputShape, (nint)data, expected * sizeof(float));
            return _shapes.TryGetValue((height, width), out var shapes)
                ? RunIntoBuffers(input, batchSize, shapes, reuse)
                : RunLearningShapes(input, batchSize, height, width, reuse);
        }
    }

    private BackboneOutput RunIntoBuffers(OrtValue input, int batchSize, FeatureMapShape[] shapes, BackboneOutput? reuse)
    {
        var output = reuse is not null && reuse.Fits(batchSize, shapes) ? reuse : BackboneOutput.Allocate(_outputNames, batchSize, shapes);
        var outputValues = new OrtValue[shapes.Length];
        try
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                outputValues[i] = OrtValue.CreateTensorValueFromMemory(
                    output.Layers[i].Data, [batchSize, shapes[i].Channels, shapes[i].Height, shapes[i].Width]);
            }
            _onnx.Session.Run(_onnx.RunOptions, _inputNames, [input], _outputNames, outputValues);
        }
        finally
        {
            foreach (var value in outputValues)
            {
                value?.Dispose();
            }
        }
        return output;
    }

    private BackboneOutput RunLearningShapes(OrtValue input, int batchSize, int height, int width, BackboneOutput? reuse)
    {
        using var results = _onnx.Session.Run(_onnx.RunOptions, _inputNames, [input], _outputNames);
        var shapes = new FeatureMapShape[_outputNames.Length];
        int index = 0;
        foreach (var result in results)
        {
            var info = result.GetTensorTypeAndShape();
            var shape = info.Shape;
            if (info.ElementDataType != TensorElementType.Float || shape.Length != 4 || shape[0] != batchSize)
            {
                throw new InvalidOperationException(
                    $"Feature output '{_outputNames[index]}' of backbone '{Description.Name}' is {info.ElementDataType}[{string.Join(",", shape)}]; "
                    + $"a float32 [N,C,H,W] map with N = {batchSize} (the batch size) is required.");
            }
            shapes[index++] = new FeatureMapShape((int)shape[1], (int)shape[2], (int)shape[3]);
        }
        _shapes.TryAdd((height, width), shapes);

        var output = reuse is not null && reuse.Fits(batchSize, shapes) ? reuse : BackboneOutput.Allocate(_outputNames, batchSize, shapes);
        index = 0;
        foreach (var result in results)
        {
            result.GetTensorDataAsSpan<float>().CopyTo(output.Layers[index++].Data);
        }
        return output;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _onnx.Dispose();
}
