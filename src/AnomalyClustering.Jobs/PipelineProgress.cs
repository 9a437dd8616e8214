namespace AnomalyClustering.Jobs;

/// <summary>The stages of a clustering job, in the order they run.</summary>
public enum PipelineStage
{
    /// <summary>Decoding the normal images and computing their patch embeddings (semi-supervised mode).</summary>
    EmbedNormalImages,

    /// <summary>Decoding the images and computing their patch embeddings (batched backbone runs).</summary>
    EmbedImages,

    /// <summary>Patch scores, patch weights and the image embeddings x_i.</summary>
    WeightPatches,

    /// <summary>Distances, agglomerative clustering, the cut and the metrics.</summary>
    Cluster,
}

/// <summary>Progress of one stage: <see cref="Completed"/> of <see cref="Total"/> units (images, or 1 for a single step).</summary>
/// <param name="Stage">The stage reporting.</param>
/// <param name="Completed">Units done so far.</param>
/// <param name="Total">Units in the stage.</param>
public readonly record struct PipelineProgress(PipelineStage Stage, int Completed, int Total);
