namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// One backbone layer's output for one image: <see cref="Channels"/> planes of
/// <see cref="Height"/> x <see cref="Width"/> floats, CHW order (a slice of an NCHW batch works as is).
/// </summary>
/// <param name="Data">The values, length Channels x Height x Width, channel-major then row-major.</param>
/// <param name="Channels">Number of channels C (512 for ResNet-50 layer2).</param>
/// <param name="Height">Rows of the layer's grid (28 for layer2 at a 224 input).</param>
/// <param name="Width">Columns of the layer's grid.</param>
public readonly record struct FeatureMap(ReadOnlyMemory<float> Data, int Channels, int Height, int Width)
{
    /// <summary>The shape without the data.</summary>
    public FeatureMapShape Shape => new(Channels, Height, Width);
}

/// <summary>The shape of one layer's feature map: C x H x W.</summary>
/// <param name="Channels">Number of channels C.</param>
/// <param name="Height">Rows of the grid.</param>
/// <param name="Width">Columns of the grid.</param>
public readonly record struct FeatureMapShape(int Channels, int Height, int Width)
{
    /// <summary>Floats in one map: C x H x W.</summary>
    public int Length => Channels * Height * Width;
}
