using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>The spelling of the enumerated options on the command line, in the HTTP API and in result files (scikit-learn's names where they exist).</summary>
public static class ClusteringOptionNames
{
    /// <summary>Accepted mode names.</summary>
    public static readonly string[] Modes = ["unsupervised", "semi-supervised", "average"];

    /// <summary>Accepted linkage names.</summary>
    public static readonly string[] Linkages = ["ward", "average", "complete", "single"];

    /// <summary>Accepted names of the criteria that find the number of clusters.</summary>
    public static readonly string[] ClusterCountCriteria = ["silhouette", "calinski-harabasz", "height-gap"];

    /// <summary>The name of a cluster count criterion.</summary>
    public static string Of(ClusterCountCriterion criterion) => criterion switch
    {
        ClusterCountCriterion.Silhouette => "silhouette",
        ClusterCountCriterion.CalinskiHarabasz => "calinski-harabasz",
        ClusterCountCriterion.HeightGap => "height-gap",
        _ => criterion.ToString(),
    };

    /// <summary>Parses a cluster count criterion name (one of <see cref="ClusterCountCriteria"/>, case-insensitive).</summary>
    /// <exception cref="InvalidClusteringInputException">The name is not a criterion.</exception>
    public static ClusterCountCriterion ParseClusterCountCriterion(string name) => name.ToLowerInvariant() switch
    {
        "silhouette" => ClusterCountCriterion.Silhouette,
        "calinski-harabasz" or "ch" => ClusterCountCriterion.CalinskiHarabasz,
        "height-gap" or "gap" => ClusterCountCriterion.HeightGap,
        _ => throw new InvalidClusteringInputException(
            $"unknown cluster count criterion '{name}'; use one of {string.Join(", ", ClusterCountCriteria)}.", "criterion"),
    };

    /// <summary>The name of a mode.</summary>
    public static string Of(ClusteringMode mode) => mode switch
    {
        ClusteringMode.Unsupervised => "unsupervised",
        ClusteringMode.SemiSupervised => "semi-supervised",
        ClusteringMode.Average => "average",
        _ => mode.ToString(),
    };

    /// <summary>The name of a linkage.</summary>
    public static string Of(LinkageMethod linkage) => linkage.ToString().ToLowerInvariant();

    /// <summary>Parses a mode name (one of <see cref="Modes"/>, case-insensitive).</summary>
    /// <exception cref="InvalidClusteringInputException">The name is not a mode.</exception>
    public static ClusteringMode ParseMode(string name) => name.ToLowerInvariant() switch
    {
        "unsupervised" => ClusteringMode.Unsupervised,
        "semi-supervised" or "semisupervised" or "semi" => ClusteringMode.SemiSupervised,
        "average" => ClusteringMode.Average,
        _ => throw new InvalidClusteringInputException($"unknown mode '{name}'; use one of {string.Join(", ", Modes)}.", "mode"),
    };

    /// <summary>Parses a linkage name (one of <see cref="Linkages"/>, case-insensitive).</summary>
    /// <exception cref="InvalidClusteringInputException">The name is not a linkage.</exception>
    public static LinkageMethod ParseLinkage(string name) => name.ToLowerInvariant() switch
    {
        "ward" => LinkageMethod.Ward,
        "average" => LinkageMethod.Average,
        "complete" => LinkageMethod.Complete,
        "single" => LinkageMethod.Single,
        _ => throw new InvalidClusteringInputException($"unknown linkage '{name}'; use one of {string.Join(", ", Linkages)}.", "linkage"),
    };

    /// <summary>The clustering algorithm names, as written in result.json and accepted by <c>--algorithm</c>.</summary>
    public static readonly string[] Algorithms = ["distance-matrix", "linear-memory-ward", "two-stage-ward", "refined-two-stage-ward"];

    /// <summary>The name of a clustering algorithm (one of <see cref="Algorithms"/>).</summary>
    public static string Of(ClusteringAlgorithm algorithm) => algorithm switch
    {
        ClusteringAlgorithm.DistanceMatrix => "distance-matrix",
        ClusteringAlgorithm.LinearMemoryWard => "linear-memory-ward",
        ClusteringAlgorithm.TwoStageWard => "two-stage-ward",
        ClusteringAlgorithm.RefinedTwoStageWard => "refined-two-stage-ward",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown clustering algorithm"),
    };

    /// <summary>Parses a clustering algorithm name (one of <see cref="Algorithms"/>, case-insensitive).</summary>
    /// <exception cref="InvalidClusteringInputException">The name is not an algorithm.</exception>
    public static ClusteringAlgorithm ParseAlgorithm(string name) => name.ToLowerInvariant() switch
    {
        "distance-matrix" => ClusteringAlgorithm.DistanceMatrix,
        "linear-memory-ward" => ClusteringAlgorithm.LinearMemoryWard,
        "two-stage-ward" => ClusteringAlgorithm.TwoStageWard,
        "refined-two-stage-ward" => ClusteringAlgorithm.RefinedTwoStageWard,
        _ => throw new InvalidClusteringInputException($"unknown clustering algorithm '{name}'; use one of {string.Join(", ", Algorithms)}.", "algorithm"),
    };
}
