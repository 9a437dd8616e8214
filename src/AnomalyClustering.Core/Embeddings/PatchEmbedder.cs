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
/// own grid, then transposed into the M patch rows (resized on the way for coarser layers). Cost per image is
/// O(sum over layers of (C*k*k + P + T) x h x w + T x M) multiply-adds; no C*k*k x h x w tensor is built, and
/// the only large buffers are the padded copy of one layer and the result.
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
        var groupPlanes = pool.Rent(plan.GroupPlanesLength);
        var patchRows = pool.Rent(plan.PatchRowsLength);
        try
        {
            for (var l = 0; l < layers.Length; l++)
            {
                var layerPlan = plan.Layers[l];
                var scale = CopyPadded(layers[l], l, layerPlan, padded);
                AccumulateLayer(plan.Output, layerPlan, padded, scale, groupPlanes, patchRows, destination);
            }
        }
        finally
        {
            pool.Return(patchRows);
            pool.Return(groupPlanes);
            pool.Return(padded);
        }
    }

    /// <summary>
    /// Writes the layer, minus its mean when LayerNorm is on, into zero-padded planes and returns the factor
    /// (1 / sqrt(var + eps), or 1) still to apply; the factor is folded into the weighted sums. Two passes
    /// (mean, then squared deviations) so that a large mean does not cost precision. O(C x h x w).
    /// </summary>
    private float CopyPadded(FeatureMap layer, int index, LayerPlan plan, Span<float> padded)
    {
        var source = layer.Data.Span;
        var area = layer.Height * layer.Width;
        var pad = (Options.NeighbourhoodSize - 1) / 2;

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

        // Padding is zero, so a whole padded plane's sum of squares is that of the real deviations.
        double squares = 0;
        for (var c = 0; c < layer.Channels; c++)
        {
            var plane = padded.Slice(c * plan.PaddedPlaneLength, plan.PaddedPlaneLength);
            PlaneKernels.CopyPadded(source.Slice(c * area, area), layer.Height, layer.Width, pad, mean, plane);
            if (Options.LayerNorm)
            {
                squares += TensorPrimitives.SumOfSquares(plane);
            }
        }
        padded[(layer.Channels * plan.PaddedPlaneLength)..plan.PaddedInputLength].Clear();
        return Options.LayerNorm ? (float)(1.0 / Math.Sqrt(squares / count + LayerNormEpsilon)) : 1f;
    }

    /// <summary>
    /// Writes (or, for a channel that an earlier layer started, adds) this layer's contribution to its output
    /// channels, <see cref="PatchEmbeddingPlan.GroupSize"/> channels at a time so their planes stay in cache:
    /// each channel is a weighted sum of shifted padded planes on the layer's grid (one contiguous multiply-add
    /// per term, the padding columns absorbing the row wrap); the group is then scattered into the patch rows,
    /// through a bilinear resize when the layer's grid is not the output grid.
    /// O(terms x h x (w + k - 1) + channels x (h x w + M)).
    /// </summary>
    private static void AccumulateLayer(
        PatchBagShape output, LayerPlan layer, ReadOnlySpan<float> padded, float scale,
        Span<float> groupPlanes, Span<float> patchRows, Span<float> destination)
    {
        var first = 0;
        if (!layer.WritesFirst[0])
        {
            // Only a layer's first channel can straddle the previous layer's P-range; it alone adds.
            AccumulateGroup(output, layer, padded, scale, 0, 1, add: true, groupPlanes, patchRows, destination);
            first = 1;
        }
        while (first < layer.TargetCount)
        {
            var left = layer.TargetCount - first;
            var size = left >= PatchEmbeddingPlan.GroupSize ? PatchEmbeddingPlan.GroupSize
                : left >= PlaneKernels.VectorWidth ? PlaneKernels.VectorWidth : left;
            AccumulateGroup(output, layer, padded, scale, first, size, add: false, groupPlanes, patchRows, destination);
            first += size;
        }
    }

    private static void AccumulateGroup(
        PatchBagShape output, LayerPlan layer, ReadOnlySpan<float> padded, float scale, int first, int size, bool add,
        Span<float> groupPlanes, Span<float> patchRows, Span<float> destination)
    {
        for (var q = 0; q < size; q++)
        {
            var terms = layer.TermStart[first + q]..layer.TermStart[first + q + 1];
            PlaneKernels.WeightedShiftSum(
                padded, layer.TermOffset.AsSpan(terms), layer.TermWeight.AsSpan(terms), scale,
                groupPlanes.Slice(q * layer.SumLength, layer.SumLength));
        }
        var columns = destination[(layer.FirstTarget + first)..];
        if (layer.ResizeRows is null)
        {
            PlaneKernels.ScatterPlanes(
                groupPlanes, size, layer.SumLength, layer.PaddedWidth, layer.Height, layer.Width,
                columns, output.Dimension, add);
            return;
        }
        PlaneKernels.ScatterPlanes(
            groupPlanes, size, layer.SumLength, layer.PaddedWidth, layer.Height, layer.Width,
            patchRows, size, add: false);
        PlaneKernels.ResizePatchRows(
            patchRows[..(layer.Height * layer.Width * size)], size, layer.Width, layer.ResizeRows, layer.ResizeColumns!,
            columns, output.Dimension, add);
    }
}
