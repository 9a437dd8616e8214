namespace AnomalyClustering.Core.Embeddings;

/// <summary>The shape of a <see cref="PatchBag"/>: a GridHeight x GridWidth grid of patches of Dimension floats.</summary>
/// <param name="GridHeight">Rows of the patch grid (the first layer's height).</param>
/// <param name="GridWidth">Columns of the patch grid (the first layer's width).</param>
/// <param name="Dimension">Embedding dimension T.</param>
public readonly record struct PatchBagShape(int GridHeight, int GridWidth, int Dimension)
{
    /// <summary>Number of patches M = GridHeight x GridWidth.</summary>
    public int PatchCount => GridHeight * GridWidth;

    /// <summary>Number of floats in the bag, M x T.</summary>
    public int Length => PatchCount * Dimension;
}
