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
    /// <summary>
    /// Every warning about <paramref name="result"/>, one sentence each; <paramref name="requested"/> are the options as given,
    /// <paramref name="preprocessing"/> how images became the backbone's input (null: unknown).
    /// </summary>
    public static IReadOnlyList<string> Of(
        DiscoveredImageFolder found, ClusteringResult result, ClusteringJobOptions requested, PreprocessingOptions? preprocessing)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(requested);
        var warnings = new List<string>();
        if (ClassesWithoutImages(found, result, requested) is { } classes)
        {
            warnings.Add(classes);
        }
        if (SmallPatchGrid(result, preprocessing) is { } grid)
        {
            warnings.Add(grid);
        }
        return warnings;
    }

    /// <summary>
    /// A patch grid too small for the method: one patch (nothing for the anomaly weights to choose between, so each image is
    /// clustered on one global feature and its heat map means nothing), or fewer rows or columns than the k x k
    /// neighbourhood each patch aggregates (most of it is zero padding). The grid is the backbone's first feature map, so
    /// it follows the input side (--crop; 224 by default gives the built-in backbone 28 x 28). A warning, not an error:
    /// the clustering is still defined, and a model may be meant for small inputs; the grid is known once an image is embedded.
    /// </summary>
    private static string? SmallPatchGrid(ClusteringResult result, PreprocessingOptions? preprocessing)
    {
        int height = result.PatchGridHeight, width = result.PatchGridWidth, k = result.Options.PatchSize;
        // No grid: precomputed embeddings, or no image embedded.
        if (height == 0 || width == 0 || (height * width > 1 && Math.Min(height, width) >= k))
        {
            return null;
        }
        var input = preprocessing is null ? "the backbone input"
            : preprocessing.CropWidth == preprocessing.CropHeight ? $"--crop {preprocessing.CropWidth} (a {preprocessing.CropWidth}x{preprocessing.CropHeight}-pixel backbone input)"
            : $"the {preprocessing.CropWidth}x{preprocessing.CropHeight}-pixel backbone input (--crop)";
        var why = height * width == 1
            ? "one patch per image, so the anomaly weights have nothing to choose between: each image is clustered on one global feature and its heat map means nothing"
            : $"fewer patches a side than the {k}x{k} neighbourhood each patch aggregates (--patch-size {k}), so most of every neighbourhood is padding";
        return $"{input} leads to a {height}x{width} patch grid: {why}. A larger --crop gives a larger grid (the built-in backbone's is the input side / 8).";
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
