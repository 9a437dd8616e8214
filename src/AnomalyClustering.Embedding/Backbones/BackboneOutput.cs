using AnomalyClustering.Core.Embeddings;
namespace AnomalyClustering.Embedding.Backbones;

/// <summary>
/// The feature maps of one batch, one <see cref="BackboneLayerOutput"/> per feature output in the
/// description's order. Can be passed back to <see cref="OnnxBackbone.Run(ReadOnlySpan{float}, int, int, int, BackboneOutput?)"/>
/// so that the next batch of the same shape is written into the same buffers.
/// </summary>
public sealed class BackboneOutput
{
    internal BackboneOutput(int batchSize, BackboneLayerOutput[] layers)
    {
        BatchSize = batchSize;
        Layers = layers;
    }

    /// <summary>Images in the batch.</summary>
    public int BatchSize { get; }

    /// <summary>The feature maps, in the order of the backbone's feature outputs.</summary>
    public IReadOnlyList<BackboneLayerOutput> Layers { get; }

    /// <summary>Image <paramref name="index"/>'s feature maps in the backbone's order, ready for <see cref="PatchEmbedder"/> (no copy).</summary>
    public FeatureMap[] FeatureMaps(int index)
    {
        var maps = new FeatureMap[Layers.Count];
        for (int i = 0; i < maps.Length; i++)
        {
            maps[i] = Layers[i].FeatureMap(index);
        }
        return maps;
    }

    /// <summary>The layer with this output name.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name (the message lists the names).</exception>
    public BackboneLayerOutput this[string name] =>
        Layers.FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"No feature output '{name}'; this output has {string.Join(", ", Layers.Select(l => $"'{l.Name}'"))}.");

    internal static BackboneOutput Allocate(IReadOnlyList<string> names, int batchSize, FeatureMapShape[] shapes)
    {
        var layers = new BackboneLayerOutput[shapes.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            var s = shapes[i];
            layers[i] = new BackboneLayerOutput(names[i], new float[batchSize * s.Length], batchSize, s.Channels, s.Height, s.Width);
        }
        return new BackboneOutput(batchSize, layers);
    }

    internal bool Fits(int batchSize, FeatureMapShape[] shapes)
    {
        if (BatchSize != batchSize || Layers.Count != shapes.Length)
        {
            return false;
        }
        for (int i = 0; i < shapes.Length; i++)
        {
            var layer = Layers[i];
            if (layer.Channels != shapes[i].Channels || layer.Height != shapes[i].Height || layer.Width != shapes[i].Width)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>One feature output for a whole batch: float32 NCHW, image n's C x H x W block at n * <see cref="ImageLength"/>.</summary>
public sealed class BackboneLayerOutput
{
    internal BackboneLayerOutput(string name, float[] data, int batchSize, int channels, int height, int width)
    {
        Name = name;
        Data = data;
        BatchSize = batchSize;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>The graph output (or exposed tensor) name.</summary>
    public string Name { get; }

    /// <summary>All images' maps, NCHW, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Images in the batch (N).</summary>
    public int BatchSize { get; }

    /// <summary>Feature channels (C).</summary>
    public int Channels { get; }

    /// <summary>Rows of the feature grid (H).</summary>
    public int Height { get; }

    /// <summary>Columns of the feature grid (W).</summary>
    public int Width { get; }

    /// <summary>Floats per image: C x H x W.</summary>
    public int ImageLength => Channels * Height * Width;

    /// <summary>Image <paramref name="index"/>'s map as Core's <see cref="Core.Embeddings.FeatureMap"/>, without copying.</summary>
    public FeatureMap FeatureMap(int index) => new(Image(index), Channels, Height, Width);

    /// <summary>Image <paramref name="index"/>'s map, CHW, without copying.</summary>
    public ReadOnlyMemory<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, BatchSize);
        return Data.AsMemory(index * ImageLength, ImageLength);
    }
}
