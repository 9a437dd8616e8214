namespace AnomalyClustering.Core.Clustering;

/// <summary>The criterion's value for one cut of the merge tree.</summary>
/// <param name="ClusterCount">K, the number of flat clusters of the cut.</param>
/// <param name="Value">The criterion's value; NaN when the cut is not scored (ties in the merge heights give fewer than K clusters).</param>
public readonly record struct ClusterCountScore(int ClusterCount, double Value);

/// <summary>The number of clusters found from a merge tree, by which criterion, and the criterion's whole curve so that a person can cut elsewhere.</summary>
/// <param name="ClusterCount">The chosen K: the one with the largest value (the smallest such K on ties).</param>
/// <param name="Criterion">The criterion that chose it.</param>
/// <param name="Curve">The value at every K of the range, ascending K.</param>
public sealed record ClusterCountChoice(int ClusterCount, ClusterCountCriterion Criterion, IReadOnlyList<ClusterCountScore> Curve);
