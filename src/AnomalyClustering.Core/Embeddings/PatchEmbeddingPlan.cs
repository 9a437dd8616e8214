using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// Everything about the patch-embedding pipeline that depends only on the layer shapes and options,
/// computed once and reused for every image of that shape. Immutable, so one plan serves many threads.
/// </summary>
/// <remarks>
/// The pipeline per layer is LayerNorm, k x k unfold, bilinear resize to the first layer's grid, pooling
/// C*k*k -&gt; P; then pooling L*P -&gt; T. Everything after the LayerNorm is linear and acts either on the
/// channel axis (unfold's channel index, both poolings) or on the grid (shift, resize), so the order can be
/// changed: output channel t of layer l is a weighted sum of shifted input planes, sum over j of
/// w[t, j] * shift(k_j)(X[c_j]), with w[t, j] = sum over the P-bins p of t inside layer l that contain j of
/// 1 / (|T-bin t| * |P-bin p|). That sum is computed on the layer's own grid and only then resized, so the
/// resize touches about T/L planes instead of C*k*k, and the unfolded tensor is never materialised.
/// </remarks>
internal sealed class PatchEmbeddingPlan
{
    /// <summary>Output channels computed together: their planes stay in cache until scattered into patch rows.</summary>
    public const int GroupSize = 16;

    private PatchEmbeddingPlan(FeatureMapShape[] shapes, PatchEmbeddingOptions options, LayerPlan[] layers, PatchBagShape output)
    {
        Shapes = shapes;
        Options = options;
        Layers = layers;
        Output = output;
        PaddedInputLength = layers.Max(l => l.PaddedInputLength);
        GroupPlanesLength = GroupSize * layers.Max(l => l.SumLength);
        PatchRowsLength = GroupSize * layers.Max(l => l.ResizeRows is null ? 0 : l.Height * l.Width);
    }

    /// <summary>The layer shapes this plan is for.</summary>
    public FeatureMapShape[] Shapes { get; }

    /// <summary>The options this plan is for.</summary>
    public PatchEmbeddingOptions Options { get; }

    /// <summary>Per-layer weights and resize tables.</summary>
    public LayerPlan[] Layers { get; }

    /// <summary>The shape of the resulting bag.</summary>
    public PatchBagShape Output { get; }

    /// <summary>Floats needed for the largest layer's zero-padded copy.</summary>
    public int PaddedInputLength { get; }

    /// <summary>Floats needed for one group of output channels on a layer's own grid.</summary>
    public int GroupPlanesLength { get; }

    /// <summary>Floats needed for one group of output channels as patch rows on a resized layer's own grid (0 when none is resized).</summary>
    public int PatchRowsLength { get; }

    /// <summary>True when this plan is for exactly these shapes and options.</summary>
    public bool Matches(ReadOnlySpan<FeatureMap> layers, PatchEmbeddingOptions options)
    {
        if (!ReferenceEquals(options, Options) || layers.Length != Shapes.Length)
        {
            return false;
        }
        for (var i = 0; i < layers.Length; i++)
        {
            if (layers[i].Shape != Shapes[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Checks the shapes and builds the plan. O(L*T + sum over layers of C*k*k + P) time and memory.
    /// </summary>
    public static PatchEmbeddingPlan Create(ReadOnlySpan<FeatureMapShape> shapes, PatchEmbeddingOptions options)
    {
        if (shapes.Length == 0)
        {
            throw new InvalidClusteringInputException("No feature maps were given; pass at least one backbone layer.", "layers");
        }
        for (var i = 0; i < shapes.Length; i++)
        {
            Guard.AtLeast(shapes[i].Channels, 1, $"layer {i} channels");
            Guard.AtLeast(shapes[i].Height, 1, $"layer {i} height");
            Guard.AtLeast(shapes[i].Width, 1, $"layer {i} width");
        }

        var k = options.NeighbourhoodSize;
        var padding = (k - 1) / 2;
        var outputShape = new PatchBagShape(shapes[0].Height, shapes[0].Width, options.TargetDimension);
        var largest = shapes.ToArray().Max(s => (long)s.Channels * (s.Height + 2 * padding) * (s.Width + 2 * padding) + k + PlaneKernels.VectorWidth);
        if (largest > Array.MaxLength || (long)outputShape.PatchCount * outputShape.Dimension > Array.MaxLength
            || (long)shapes.Length * options.PretrainDimension > Array.MaxLength)
        {
            throw new InvalidClusteringInputException(
                $"Feature maps of {string.Join(", ", shapes.ToArray())} with P = {options.PretrainDimension}, T = {options.TargetDimension} need more than {Array.MaxLength} floats in one buffer; lower the dimensions or the grid size.",
                "layers");
        }

        var layers = new LayerPlan[shapes.Length];
        for (var l = 0; l < shapes.Length; l++)
        {
            layers[l] = LayerPlan.Create(l, shapes, options, outputShape);
        }
        return new PatchEmbeddingPlan(shapes.ToArray(), options, layers, outputShape);
    }
}

/// <summary>
/// One layer's part of a <see cref="PatchEmbeddingPlan"/>: which output channels t it feeds, and for each a
/// sparse list of (shifted input plane, weight) terms; plus the resize tables when its grid is not the output grid.
/// </summary>
internal sealed class LayerPlan
{
    private LayerPlan()
    {
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; private init; }

    /// <summary>Rows of this layer's grid.</summary>
    public int Height { get; private init; }

    /// <summary>Columns of this layer's grid.</summary>
    public int Width { get; private init; }

    /// <summary>Width of a zero-padded channel, Width + k - 1; also the row stride of this layer's output-channel planes.</summary>
    public int PaddedWidth { get; private init; }

    /// <summary>Floats per zero-padded channel, (Height + k - 1) x PaddedWidth.</summary>
    public int PaddedPlaneLength { get; private init; }

    /// <summary>Floats of one output channel on this layer's grid as computed: Height x PaddedWidth rounded up to whole vectors.</summary>
    public int SumLength { get; private init; }

    /// <summary>Floats of the padded copy of all channels, plus the slack that the last shifted read may touch (k - 1 and the vector rounding).</summary>
    public int PaddedInputLength { get; private init; }

    /// <summary>First output channel t that this layer contributes to.</summary>
    public int FirstTarget { get; private init; }

    /// <summary>Number of consecutive output channels this layer contributes to.</summary>
    public int TargetCount { get; private init; }

    /// <summary>Terms of target FirstTarget + i are [TermStart[i], TermStart[i+1]).</summary>
    public int[] TermStart { get; private init; } = [];

    /// <summary>Offset into the padded copy where a term's shifted plane starts: c * PaddedPlaneLength + ky * PaddedWidth + kx.</summary>
    public int[] TermOffset { get; private init; } = [];

    /// <summary>Weight of each term.</summary>
    public float[] TermWeight { get; private init; } = [];

    /// <summary>Per target: this layer is the first to write it (so it overwrites instead of adding).</summary>
    public bool[] WritesFirst { get; private init; } = [];

    /// <summary>Resize tables for rows, or null when this layer's grid is the output grid.</summary>
    public BilinearAxis? ResizeRows { get; private init; }

    /// <summary>Resize tables for columns, or null when this layer's grid is the output grid.</summary>
    public BilinearAxis? ResizeColumns { get; private init; }

    /// <summary>Builds layer <paramref name="layer"/>'s terms. O(T + C*k*k + P).</summary>
    public static LayerPlan Create(int layer, ReadOnlySpan<FeatureMapShape> shapes, PatchEmbeddingOptions options, PatchBagShape output)
    {
        var shape = shapes[layer];
        var k = options.NeighbourhoodSize;
        var kernelArea = k * k;
        var paddedWidth = shape.Width + k - 1;
        var paddedPlane = (shape.Height + k - 1) * paddedWidth;
        var unfoldedLength = shape.Channels * kernelArea;
        var p = options.PretrainDimension;
        var t = options.TargetDimension;
        var stackedLength = shapes.Length * p;
        var layerStart = layer * p;
        var layerEnd = layerStart + p;

        var firstTarget = -1;
        var lastTarget = -1;
        for (var target = 0; target < t; target++)
        {
            var (start, end) = AdaptivePooling.Bin(target, stackedLength, t);
            if (start < layerEnd && end > layerStart)
            {
                if (firstTarget < 0)
                {
                    firstTarget = target;
                }
                lastTarget = target;
            }
        }
        var targetCount = lastTarget - firstTarget + 1;

        var termStart = new int[targetCount + 1];
        var offsets = new List<int>();
        var weights = new List<float>();
        var writesFirst = new bool[targetCount];
        var accumulated = new double[unfoldedLength];
        for (var i = 0; i < targetCount; i++)
        {
            var (targetBinStart, targetBinEnd) = AdaptivePooling.Bin(firstTarget + i, stackedLength, t);
            writesFirst[i] = targetBinStart / p == layer;
            var pFirst = Math.Max(targetBinStart, layerStart) - layerStart;
            var pEnd = Math.Min(targetBinEnd, layerEnd) - layerStart;
            var jFirst = AdaptivePooling.Bin(pFirst, unfoldedLength, p).Start;
            var jEnd = AdaptivePooling.Bin(pEnd - 1, unfoldedLength, p).End;
            for (var pooled = pFirst; pooled < pEnd; pooled++)
            {
                var (binStart, binEnd) = AdaptivePooling.Bin(pooled, unfoldedLength, p);
                var weight = 1.0 / ((double)(targetBinEnd - targetBinStart) * (binEnd - binStart));
                for (var j = binStart; j < binEnd; j++)
                {
                    accumulated[j] += weight;
                }
            }
            termStart[i] = offsets.Count;
            for (var j = jFirst; j < jEnd; j++)
            {
                var channel = j / kernelArea;
                var ky = j % kernelArea / k;
                var kx = j % k;
                offsets.Add(channel * paddedPlane + ky * paddedWidth + kx);
                weights.Add((float)accumulated[j]);
                accumulated[j] = 0;
            }
        }
        termStart[targetCount] = offsets.Count;

        var sumLength = PlaneKernels.RoundUpToVector(shape.Height * paddedWidth);
        var paddedInputLength = shape.Channels * paddedPlane + k - 1 + PlaneKernels.VectorWidth;
        if (offsets.Max() + sumLength > paddedInputLength)
        {
            throw new InvalidOperationException("Patch embedding plan reads outside its padded input; this is a bug.");
        }
        var sameGrid = shape.Height == output.GridHeight && shape.Width == output.GridWidth;
        return new LayerPlan
        {
            Channels = shape.Channels,
            Height = shape.Height,
            Width = shape.Width,
            PaddedWidth = paddedWidth,
            PaddedPlaneLength = paddedPlane,
            SumLength = sumLength,
            PaddedInputLength = paddedInputLength,
            FirstTarget = firstTarget,
            TargetCount = targetCount,
            TermStart = termStart,
            TermOffset = offsets.ToArray(),
            TermWeight = weights.ToArray(),
            WritesFirst = writesFirst,
            ResizeRows = sameGrid ? null : BilinearAxis.Create(shape.Height, output.GridHeight),
            ResizeColumns = sameGrid ? null : BilinearAxis.Create(shape.Width, output.GridWidth),
        };
    }
}
