namespace AnomalyClustering.Core.Clustering;

/// <summary>Which algorithm built a merge tree; chosen by <see cref="ClusteringAlgorithmChoice"/> from N, D, the linkage and a memory budget.</summary>
public enum ClusteringAlgorithm
{
    /// <summary>The condensed N x N distance matrix (NN-chain or MST): every linkage, exact, 4 N(N-1) bytes, N at most 65,535.</summary>
    DistanceMatrix,

    /// <summary>Exact Ward by the NN-chain on centroids and sizes (<see cref="LinearMemoryWard"/>): 4 N D bytes (a float copy of the points) plus O(N), O(N^2 D) time.</summary>
    LinearMemoryWard,

    /// <summary>Seeded k-means micro-clusters, then exact Ward on their centroids weighted by size (<see cref="TwoStageWard"/>): approximate, for millions of points.</summary>
    TwoStageWard,

    /// <summary>
    /// Two-stage Ward, then exact Ward inside its largest subtrees of at most 20,000 points, the two-stage merges kept above
    /// (<see cref="RefinedTwoStageWard"/>): exact Ward's tree whenever those subtrees are clusters of it; leaves are the points.
    /// </summary>
    RefinedTwoStageWard,
}
