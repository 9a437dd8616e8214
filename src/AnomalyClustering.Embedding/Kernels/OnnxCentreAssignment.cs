using System.Numerics.Tensors;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AnomalyClustering.Embedding.Kernels;

/// <summary>
/// The two-stage clustering's k-means assignment (<see cref="ICentreAssignment"/>) as a small ONNX graph, for a GPU:
/// MatMul (the points against -2 C^T), Add (the centres' squared norms) and ArgMin give every point's nearest centre.
/// The points travel to the device in slices of rows; the centres, which change every Lloyd pass, are inputs of each run.
/// The session runs as <see cref="SmallGraphRuntime"/> says: on CUDA when TensorRT is asked for, TF32 as the options say.
/// </summary>
/// <remarks>
/// Choices are the SIMD kernel's except in near ties: the graph sums in the provider's order, and a GPU may multiply in
/// TF32 (ONNX Runtime's CUDA provider allows it by default), so a point almost equidistant from two centres can go to
/// either. Each choice is still the nearest centre to that rounding; the centroids are then exact means of whatever the
/// assignment gave them. Device memory per run: the slice's points, the centres, and the float32 matrix of slice rows x
/// centres, bounded by <see cref="DefaultMaxProductBytes"/>. Thread-safe (ONNX Runtime sessions take concurrent runs).
/// </remarks>
public sealed class OnnxCentreAssignment : ICentreAssignment, IDisposable
{
    /// <summary>The largest rows x centres matrix of one run; points are sent in slices that fit.</summary>
    public const long DefaultMaxProductBytes = 256L << 20;

    private readonly OnnxSession _onnx;
    private readonly long _maxProductBytes;
    private readonly string _provider;

    /// <summary>An assignment graph for points of <paramref name="dimension"/> values on <paramref name="runtime"/>'s execution provider.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension below 1 or a product bound below one row.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The execution provider cannot be loaded.</exception>
    public OnnxCentreAssignment(int dimension, BackboneRuntimeOptions runtime, long maxProductBytes = DefaultMaxProductBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxProductBytes, sizeof(float));
        ArgumentNullException.ThrowIfNull(runtime);
        Dimension = dimension;
        _maxProductBytes = maxProductBytes;
        var onDevice = SmallGraphRuntime.For(runtime);
        _provider = onDevice.ExecutionProvider.ToString().ToLowerInvariant();
        using var options = onDevice.CreateSessionOptions();
        _onnx = new OnnxSession(ExecutionProviders.CreateSession(CreateModel(dimension), options, onDevice.ExecutionProvider));
    }

    /// <summary>Values per point.</summary>
    public int Dimension { get; }

    /// <inheritdoc />
    public string Description => $"ONNX graph (MatMul + Add + ArgMin) on the {_provider} execution provider";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Shapes that do not match, or a dimension other than the graph's.</exception>
    public void Assign(ReadOnlySpan<float> points, int count, int dimension, ReadOnlySpan<float> centres, int centreCount, Span<int> assignment)
    {
        ObjectDisposedException.ThrowIf(_onnx.IsDisposed, this);
        CentreAssignmentArguments.Check(points, count, dimension, centres, centreCount, assignment);
        if (dimension != Dimension)
        {
            throw new ArgumentException($"This assignment graph takes points of {Dimension} values; got {dimension}.", nameof(dimension));
        }
        if (count == 0)
        {
            return;
        }
        // -2 C^T (scaling by a power of two is exact) and |c|^2 as the SIMD kernel computes it.
        var scaledTransposed = new float[(long)dimension * centreCount];
        var norms = new float[centreCount];
        for (var c = 0; c < centreCount; c++)
        {
            var row = centres.Slice(c * dimension, dimension);
            norms[c] = TensorPrimitives.Dot(row, row);
            for (var k = 0; k < dimension; k++)
            {
                scaledTransposed[(long)k * centreCount + c] = -2f * row[k];
            }
        }
        var rowsPerRun = (int)Math.Clamp(_maxProductBytes / ((long)centreCount * sizeof(float)), 1, int.MaxValue);
        using var centresValue = OrtValue.CreateTensorValueFromMemory(scaledTransposed, [dimension, centreCount]);
        using var normsValue = OrtValue.CreateTensorValueFromMemory(norms, [centreCount]);
        unsafe
        {
            fixed (float* p = points)
            {
                for (var first = 0; first < count; first += rowsPerRun)
                {
                    var rows = Math.Min(rowsPerRun, count - first);
                    using var slice = OrtValue.CreateTensorValueWithData(
                        OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [rows, dimension], (nint)(p + (long)first * dimension), (long)rows * dimension * sizeof(float));
                    using var results = _onnx.Session.Run(_onnx.RunOptions, ["points", "centres_t", "centre_norms"], [slice, centresValue, normsValue], ["nearest"]);
                    var nearest = results[0].GetTensorDataAsSpan<long>();
                    var output = assignment.Slice(first, rows);
                    for (var i = 0; i < rows; i++)
                    {
                        output[i] = (int)nearest[i];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The graph (opset 13): points [rows, D] -> MatMul with centres_t [D, C] (-2 C^T) -> Add centre_norms [C] -> ArgMin over
    /// C (first index on ties, as the SIMD kernel) -> nearest [rows] int64.
    /// </summary>
    private static byte[] CreateModel(int dimension)
    {
        var graph = new OnnxGraphBuilder("centre_assignment");
        graph.AddInput("points", OnnxElementType.Float, [OnnxDimension.Symbolic("rows"), OnnxDimension.Fixed(dimension)]);
        graph.AddInput("centres_t", OnnxElementType.Float, [OnnxDimension.Fixed(dimension), OnnxDimension.Symbolic("centres")]);
        graph.AddInput("centre_norms", OnnxElementType.Float, [OnnxDimension.Symbolic("centres")]);
        graph.AddNode("MatMul", "products", ["points", "centres_t"], ["products"]);
        graph.AddNode("Add", "partial_distances", ["products", "centre_norms"], ["partial_distances"]);
        graph.AddNode("ArgMin", "nearest", ["partial_distances"], ["nearest"],
            OnnxGraphBuilder.Int("axis", 1), OnnxGraphBuilder.Int("keepdims", 0), OnnxGraphBuilder.Int("select_last_index", 0));
        graph.AddOutput("nearest", OnnxElementType.Int64, [OnnxDimension.Symbolic("rows")]);
        return graph.Build("1", "Nearest centre per point (AnomalyClustering two-stage k-means assignment).");
    }

    /// <inheritdoc />
    public void Dispose() => _onnx.Dispose();
}
