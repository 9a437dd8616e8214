namespace AnomalyClustering.Jobs;

/// <summary>How patch weights are found (METHOD section 2).</summary>
public enum ClusteringMode
{
    /// <summary>A patch scores high when it is far from its nearest patch in the other images.</summary>
    Unsupervised,

    /// <summary>A patch scores high when it is far from every patch of the normal (defect-free) images.</summary>
    SemiSupervised,

    /// <summary>Uniform weights: the plain mean of the patch embeddings (the paper's baseline).</summary>
    Average,
}
