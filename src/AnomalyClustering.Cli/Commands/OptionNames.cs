using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Embedding.Pipeline;

namespace AnomalyClustering.Cli.Commands;

/// <summary>The command-line spelling of the enumerated options (scikit-learn's names where they exist).</summary>
internal static class OptionNames
{
    /// <summary>Accepted values of <c>--mode</c>.</summary>
    public static readonly string[] Modes = ["unsupervised", "semi-supervised", "average"];

    /// <summary>Accepted values of <c>--linkage</c>.</summary>
    public static readonly string[] Linkages = ["ward", "average", "complete", "single"];

    /// <summary>The command-line name of a mode.</summary>
    public static string Of(ClusteringMode mode) => mode switch
    {
        ClusteringMode.Unsupervised => "unsupervised",
        ClusteringMode.SemiSupervised => "semi-supervised",
        ClusteringMode.Average => "average",
        _ => mode.ToString(),
    };

    /// <summary>The command-line name of a linkage.</summary>
    public static string Of(LinkageMethod linkage) => linkage.ToString().ToLowerInvariant();

    /// <summary>Parses a mode name (one of <see cref="Modes"/>, case-insensitive).</summary>
    public static ClusteringMode ParseMode(string name) => name.ToLowerInvariant() switch
    {
        "unsupervised" => ClusteringMode.Unsupervised,
        "semi-supervised" or "semisupervised" or "semi" => ClusteringMode.SemiSupervised,
        "average" => ClusteringMode.Average,
        _ => throw new CliInputException($"unknown mode '{name}'; use one of {string.Join(", ", Modes)}."),
    };

    /// <summary>Parses a linkage name (one of <see cref="Linkages"/>, case-insensitive).</summary>
    public static LinkageMethod ParseLinkage(string name) => name.ToLowerInvariant() switch
    {
        "ward" => LinkageMethod.Ward,
        "average" => LinkageMethod.Average,
        "complete" => LinkageMethod.Complete,
        "single" => LinkageMethod.Single,
        _ => throw new CliInputException($"unknown linkage '{name}'; use one of {string.Join(", ", Linkages)}."),
    };
}
