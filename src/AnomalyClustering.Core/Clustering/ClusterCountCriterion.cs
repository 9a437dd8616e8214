namespace AnomalyClustering.Core.Clustering;

/// <summary>A label-free criterion that scores each cut of a merge tree into K clusters; the largest value wins.</summary>
public enum ClusterCountCriterion
{
    /// <summary>
    /// Mean silhouette of the cut (scikit-learn's silhouette_score) on a seeded sample of the points: how much closer each
    /// point is to its own cluster than to the nearest other one. The default: it finds K on separated mixtures (also of
    /// unequal sizes), and on real embeddings its K gave partitions closest to those at the true K (docs/RESULTS.md).
    /// </summary>
    Silhouette,

    /// <summary>Calinski-Harabasz variance ratio of the cut (scikit-learn's calinski_harabasz_score) over all points.</summary>
    CalinskiHarabasz,

    /// <summary>
    /// The relative gap in merge heights above the cut, (h_next - h_last) / h_next, where h_last made the K clusters and
    /// h_next would join two of them: a long stem in the dendrogram. Needs no points.
    /// </summary>
    HeightGap,
}
