using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// How backbone feature maps become patch embeddings (METHOD.md section 1, steps 3-5). The defaults are
/// PatchCore's dimensions (P = T = 1024) with the Anomaly-Clustering reproduction's LayerNorm; the
/// reproduction's own runs use P = 2048, T = 4096.
/// </summary>
public sealed record PatchEmbeddingOptions
{
    /// <summary>
    /// Normalise each layer of each image over (C, H, W) before anything else, without affine parameters
    /// (torch layer_norm, eps 1e-5). The reproduction does this; PatchCore does not.
    /// </summary>
    public bool LayerNorm { get; init; } = true;

    /// <summary>P (pretrain_embed_dimension): each layer's flattened C x k x k neighbourhood is average-pooled to P values.</summary>
    public int PretrainDimension { get; init; } = 1024;

    /// <summary>T (target_embed_dimension): the L x P values of all layers are average-pooled to T, the embedding dimension.</summary>
    public int TargetDimension { get; init; } = 1024;

    /// <summary>k (PatchCore's patchsize): the side of the neighbourhood aggregated around every position; odd, zero padding (k-1)/2.</summary>
    public int NeighbourhoodSize { get; init; } = 3;

    /// <summary>Throws <see cref="InvalidClusteringInputException"/> unless every option is usable.</summary>
    public void Validate()
    {
        AtLeastOne(PretrainDimension, "the pretrain dimension P", "pretrainDimension");
        AtLeastOne(TargetDimension, "the target dimension T", "targetDimension");
        AtLeastOne(NeighbourhoodSize, "the patch size k", "patchSize");
        if (NeighbourhoodSize % 2 == 0)
        {
            throw new InvalidClusteringInputException(
                $"the patch size k is {NeighbourhoodSize}; it must be odd (3 in the reference) so that zero padding keeps the grid size.",
                "patchSize");
        }
    }

    // The message names the value as a person reads it (the CLI's --pretrain-dim, the API's pretrainDimension), never as a
    // C# member; the field is the job option's JSON name, which the API returns as the problem's "field".
    private static void AtLeastOne(int value, string what, string field)
    {
        if (value < 1)
        {
            throw new InvalidClusteringInputException($"{what} is {value}; it must be at least 1.", field);
        }
    }
}
