namespace AnomalyClustering.Core.Metrics;

/// <summary>The three scores of METHOD.md section 5 for one clustering, with the table and matching behind them.</summary>
/// <param name="NormalizedMutualInformation">NMI with arithmetic-mean normalisation, in [0, 1].</param>
/// <param name="AdjustedRandIndex">ARI, in [-0.5, 1]; 0 is chance level.</param>
/// <param name="HungarianF1">Micro-F1 (clustering accuracy) after the Hungarian matching, in [0, 1].</param>
/// <param name="Contingency">Items per (class, cluster).</param>
/// <param name="Matching">The cluster-to-class matching behind <paramref name="HungarianF1"/>.</param>
public sealed record ClusteringScores(
    double NormalizedMutualInformation,
    double AdjustedRandIndex,
    double HungarianF1,
    ContingencyTable Contingency,
    ClusterClassMatching Matching);
