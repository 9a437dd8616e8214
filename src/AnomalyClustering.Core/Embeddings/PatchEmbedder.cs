using System.Buffers;
using System.Numerics.Tensors;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// Turns the backbone feature maps of one image into its bag of patch embeddings (METHOD.md section 1,
/// steps 3-5), equal to the reference's torch pipeline: per layer LayerNorm (optional), k x k unfold with
/// zero padding, bilinear resize (align_corners = false) to the first layer's grid, adaptive average
/// pooling of each C*k*k vector to P; then the L x P values pooled to T.
/// </summary>
/// <remarks>
/// All steps after the LayerNorm are linear, so they are reordered (see <see cref="PatchEmbeddingPlan"/>):
/// each output channel is a sparse weighted sum of shifted, zero-padded input planes computed on the layer's
/// own grid, only then resized, and finally the T planes are transposed into M rows. Cost per image is
/// O(sum over layers of (C*k*k + P + T) x h x w + T x M) multiply-adds; no C*k*k x h x w tensor is built.
/// Thread-safe: the shape-dependent plan is immutable and scratch memory is rented per call.
/// </remarks>
public sealed class PatchEmbedder
{
    private const float LayerNormEpsilon = 1e-5f;

    private PatchEmbeddingPlan? _plan;

    /// <summary>Creates an embedder; throws <see cref="InvalidClusteringInputException"/> for unusable options.</summary>
    public PatchEmbedder(PatchEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options every embedding is made with.</summary>
    public PatchEmbeddingOptions Options { get; }

    /// <summary>
    /// The shape of the bag that layers of these shapes give: the first layer's grid (M = H x W patches)
    /// and T dimensions. Throws <see cref="InvalidClusteringInputException"/> for an empty or degenerate list.
    /// </summary>
    public PatchBagShape OutputShape(ReadOnlySpan<FeatureMapShape> layers) => PatchEmbeddingPlan.Create(layers, Options).Output;

    /// <summary>Embeds one image's feature maps into a new <see cref="PatchBag"/> (M x T).</summary>
    public PatchBag Embed(ReadOnlySpan<FeatureMap> layers)
    {
        var plan = PlanFor(layers);
        var data = new float[plan.Output.Length];
        Run(plan, layers, data);
        return new PatchBag(data, plan.Output.GridHeight, plan.Output.GridWidth, plan.Output.Dimension);
    }

    /// <summary>
    /// Embeds one image's feature maps into <paramref name="destination"/> (exactly M x T floats, row-major,
    /// patch k at grid position (k / W, k % W)) and returns the shape written.
    /// </summary>
    public PatchBagShape Embed(ReadOnlySpan<FeatureMap> layers, Span<float> destination)
    {
        var plan = PlanFor(layers);
        Guard.Length(destination.Length, plan.Output.Length, "patch embedding destination");
        Run(plan, layers, destination);
        return plan.Output;
    }

    private PatchEmbeddingPlan PlanFor(ReadOnlySpan<FeatureMap> layers)
    {
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            var expected = (long)layer.Channels * layer.Height * layer.Width;
            if (layer.Channels < 1 || layer.Height < 1 || layer.Width < 1 || layer.Data.Length != expected)
            {
                throw new InvalidClusteringInputException(
                    $"Feature map {i} claims shape {layer.Channels} x {layer.Height} x {layer.Width} (C x H x W) but holds {layer.Data.Length} values; pass one image's CHW map with positive sizes.",
                    "layers");
            }
        }
        var plan = Volatile.Read(ref _plan);
        if (plan is null || !plan.Matches(layers, Options))
        {
            var shapes = new FeatureMapShape[layers.Length];
            for (var i = 0; i < shapes.Length; i++)
            {
                shapes[i] = layers[i].Shape;
            }
            plan = PatchEmbeddingPlan.Create(shapes, Options);
            Volatile.Write(ref _plan, plan);
        }
        return plan;
    }

    private void Run(PatchEmbeddingPlan plan, ReadOnlySpan<FeatureMap> layers, Span<float> destination)
    {
        var pool = ArrayPool<float>.Shared;
        var padded = pool.Rent(plan.PaddedInputLength);
        var planes = pool.Rent(plan.Output.Dimension * plan.PlaneLength);
        var scratch = pool.Rent(plan.ScratchPlaneLength + plan.HorizontalPassLength);
        try
        {
            for (var l = 0; l < layers.Length; l++)
            {
                var layerPlan = plan.Layers[l];
                var scale = CopyPadded(layers[l], l, layerPlan, padded);
                AccumulateLayer(plan, layerPlan, padded, scale, planes, scratch);
            }
            PlaneKernels.TransposePlanes(
                planes, plan.Output.Dimension, plan.PlaneLength, plan.PlaneStride,
                plan.Output.GridHeight, plan.Output.GridWidth, destination);
        }
        finally
        {
            pool.Return(scratch);
            pool.Return(planes);
            pool.Return(padded);
        }
    }

    /// <summary>
    /// Writes the layer, minus its mean when LayerNorm is on, into zero-padded planes and returns the factor
    /// (1 / sqrt(var + eps), or 1) still to apply; the factor is folded into the term weights. O(C x h x w).
    /// </summary>
    private float CopyPadded(FeatureMap layer, int index, LayerPlan plan, Span<float> padded)
    {
        var source = layer.Data.Span;
        var area = layer.Height * layer.Width;
        var pad = (Options.NeighbourhoodSize - 1) / 2;
        var target = padded[..plan.PaddedInputLength];
        target.Clear();

        double sum = 0;
        for (var c = 0; c < layer.Channels; c++)
        {
            sum += TensorPrimitives.Sum(source.Slice(c * area, area));
        }
        if (!double.IsFinite(sum))
        {
            Guard.Finite(source, $"feature map {index}");
            throw new InvalidClusteringInputException(
                $"Feature map {index} has values so large that their sum overflows float; rescale the backbone output.", "layers");
        }
        var count = (double)layer.Channels * area;
        var mean = Options.LayerNorm ? (float)(sum / count) : 0f;

        for (var c = 0; c < layer.Channels; c++)
        {
            for (var y = 0; y < layer.Height; y++)
            {
                var row = source.Slice(c * area + y * layer.Width, layer.Width);
                var paddedRow = target.Slice(c * plan.PaddedPlaneLength + (y + pad) * plan.PaddedWidth + pad, layer.Width);
                TensorPrimitives.Subtract(row, mean, paddedRow);
            }
        }
        if (!Options.LayerNorm)
        {
            return 1f;
        }

        // Padding is zero, so summing whole padded planes sums the squared deviations of the real values.
        double squares = 0;
        for (var c = 0; c < layer.Channels; c++)
        {
            squares += TensorPrimitives.SumOfSquares(target.Slice(c * plan.PaddedPlaneLength, plan.PaddedPlaneLength));
        }
        return (float)(1.0 / Math.Sqrt(squares / count + LayerNormEpsilon));
    }

    /// <summary>
    /// Adds this layer's contribution to its output channels: per channel the weighted sum of shifted padded
    /// planes (one contiguous multiply-add each, the padding columns absorbing the row wrap), resized when the
    /// layer's grid is not the output grid. O(terms x h x (w + k - 1) + resized channels x (h + H) x W).
    /// </summary>
    private static void AccumulateLayer(PatchEmbeddingPlan plan, LayerPlan layer, ReadOnlySpan<float> padded, float scale, Span<float> planes, Span<float> scratch)
    {
        var length = layer.Height * layer.PaddedWidth;
        var resized = layer.ResizeRows is not null;
        var onOwnGrid = resized ? scratch[..length] : [];
        var horizontal = scratch.Slice(plan.ScratchPlaneLength, plan.HorizontalPassLength);
        for (var i = 0; i < layer.TargetCount; i++)
        {
            var plane = planes.Slice((layer.FirstTarget + i) * plan.PlaneLength, plan.PlaneLength);
            var sum = resized ? onOwnGrid : plane[..length];
            var overwrite = resized || layer.WritesFirst[i];
            for (var term = layer.TermStart[i]; term < layer.TermStart[i + 1]; term++)
            {
                var shifted = padded.Slice(layer.TermOffset[term], length);
                var weight = layer.TermWeight[term] * scale;
                if (overwrite)
                {
                    TensorPrimitives.Multiply(shifted, weight, sum);
                    overwrite = false;
                }
                else
                {
                    TensorPrimitives.MultiplyAddEstimate(shifted, weight, sum, sum);
                }
            }
            if (resized)
            {
                PlaneKernels.ResizeBilinear(
                    onOwnGrid, layer.PaddedWidth, layer.Height, layer.ResizeRows!, layer.ResizeColumns!,
                    horizontal, plane, plan.PlaneStride, layer.WritesFirst[i]);
            }
        }
    }
}
