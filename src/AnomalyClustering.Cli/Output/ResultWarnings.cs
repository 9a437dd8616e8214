using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>
/// What a finished image job did differently from what its input line said (printed before the run), in words a person can
/// act on: results that look normal but are not what was asked for.
/// </summary>
internal static class ResultWarnings
{
    /// <summary>Every warning about <paramref name="result"/>, one sentence each; <paramref name="requested"/> are the options as given.</summary>
    public static IReadOnlyList<string> Of(DiscoveredImageFolder found, ClusteringResult result, ClusteringJobOptions requested)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(requested);
        var warnings = new List<string>();
        if (ClassesWithoutImages(found, result, requested) is { } classes)
        {
            warnings.Add(classes);
        }
        return warnings;
    }

    /// <summary>Prints each warning in yellow.</summary>
    public static void Print(IAnsiConsole console, IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        }
    }

    /// <summary>
    /// The classes none of whose images could be used (all unreadable or corrupt). K taken from the labels is the number of
    /// classes among the clustered images, so each such class takes a cluster away; said with both numbers, or, with K
    /// given, that the scores leave the class out.
    /// </summary>
    private static string? ClassesWithoutImages(DiscoveredImageFolder found, ClusteringResult result, ClusteringJobOptions requested)
    {
        var dataset = found.Dataset;
        if (!dataset.HasLabels)
        {
            return null;
        }
        var clustered = result.Images.Select(image => image.Label).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var missing = dataset.ClassNames.Where(name => !clustered.Contains(name)).ToList();
        if (missing.Count == 0)
        {
            return null;
        }
        var named = string.Join(", ", missing.Select(name => $"'{name}' ({dataset.Images.Count(image => image.Label == name)} files)"));
        var what = missing.Count == 1 ? $"class {named} has no image that could be used" : $"classes {named} have no image that could be used";
        var kFromClasses = requested.ClusterCount is null && requested.DistanceThreshold is null && !EmbeddingClustering.FindsClusterCount(requested, hasLabels: true);
        return kFromClasses
            ? $"{what} (every file is left out, listed below), so K, the number of classes with an image, is {result.ClusterCount} instead of {dataset.ClassNames.Count}; -k {dataset.ClassNames.Count} keeps {dataset.ClassNames.Count} clusters."
            : $"{what} (every file is left out, listed below); the scores are over the other {dataset.ClassNames.Count - missing.Count} classes.";
    }
}
