using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// One image as a bag of patch embeddings (METHOD section 1): <see cref="PatchCount"/> rows of
/// <see cref="Dimension"/> floats, row-major, patch k at grid position (k / GridWidth, k % GridWidth).
/// </summary>
public sealed class PatchBag
{
    /// <summary>Wraps row-major patch embeddings (not copied) laid out on a GridHeight x GridWidth grid.</summary>
    public PatchBag(float[] data, int gridHeight, int gridWidth, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        Guard.AtLeast(gridHeight, 1, nameof(gridHeight));
        Guard.AtLeast(gridWidth, 1, nameof(gridWidth));
        Guard.AtLeast(dimension, 1, nameof(dimension));
        Guard.Length(data.Length, gridHeight * gridWidth * dimension, "patch bag data");
        Data = data;
        GridHeight = gridHeight;
        GridWidth = gridWidth;
        Dimension = dimension;
    }

    /// <summary>The embeddings, row-major: patch k occupies [k*Dimension, (k+1)*Dimension).</summary>
    public float[] Data { get; }

    /// <summary>Rows of the patch grid (28 for a 224 x 224 input at stride 8).</summary>
    public int GridHeight { get; }

    /// <summary>Columns of the patch grid.</summary>
    public int GridWidth { get; }

    /// <summary>Embedding dimension T.</summary>
    public int Dimension { get; }

    /// <summary>Number of patches M = GridHeight x GridWidth.</summary>
    public int PatchCount => GridHeight * GridWidth;

    /// <summary>The embedding of patch k.</summary>
    public ReadOnlySpan<float> Patch(int k) => Data.AsSpan(k * Dimension, Dimension);
}
