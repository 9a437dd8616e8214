using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>The lines every image job prints before it starts (local or remote): the dataset, its classes, the normal set and the cut.</summary>
internal static class JobInputDescription
{
    /// <summary>Prints the folder, layout, classes and excluded images; <paramref name="normalUse"/> says what happens to the normal images.</summary>
    public static void WriteDataset(IAnsiConsole console, DiscoveredImageFolder found, string normalUse)
    {
        var dataset = found.Dataset;
        console.MarkupLine($"[bold]{Markup.Escape(found.Root)}[/]: layout {Markup.Escape(found.Layout.Describe())}");
        var classes = dataset.HasLabels
            ? $"{dataset.ClassNames.Count} classes ({Markup.Escape(string.Join(", ", dataset.ClassNames.Select(c => $"{c} {dataset.Images.Count(i => i.Label == c)}")))})"
            : "no labels";
        console.MarkupLine($"  {dataset.Images.Count} images, {classes}");
        foreach (var (name, count) in found.ExcludedImages)
        {
            console.MarkupLine($"  left out {count} '{Markup.Escape(name)}' images (several defects per image; METHOD section 6)");
        }
        if (found.NormalFolder is not null)
        {
            console.MarkupLine($"  {dataset.NormalImages.Count} normal images in {Markup.Escape(found.NormalFolder)} ({normalUse})");
        }
    }

    /// <summary>
    /// How the tree is cut: at a distance, at K (given, or the number of classes), or at a K found from the tree; and
    /// whether the images under the detection threshold are one of the clusters (detect, then cluster).
    /// </summary>
    public static string Cut(ClusteringJobOptions options, DiscoveredImageFolder found) =>
        (options.DistanceThreshold is { } t ? $"cut at distance {t}"
        : EmbeddingClustering.FindsClusterCount(options, found.Dataset.HasLabels)
            ? $"K found automatically ({ClusteringOptionNames.Of(options.ClusterCountCriterion)}, {options.MinimumClusterCount}..{options.MaximumClusterCount})"
        : $"K = {options.ClusterCount?.ToString() ?? $"{found.Dataset.ClassNames.Count} (the number of classes)"}")
        + (options.DetectThenCluster ? ", detect then cluster (the images under the threshold are one of them)" : string.Empty);
}
