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
}
