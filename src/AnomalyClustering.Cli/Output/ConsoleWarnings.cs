using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>
/// A finished image job's warnings (<see cref="ClusteringResult.Warnings"/>, computed by the job) as the CLI completes them
/// with what only it knows, and prints them.
/// </summary>
internal static class ConsoleWarnings
{
    /// <summary>
    /// <paramref name="result"/>'s warnings with the classes without a usable image counted over the whole folder: files the
    /// CLI could not read never reached the job, so a class of only such files, or their number, is known here only.
    /// <paramref name="requested"/>: the options as given, before K was resolved. With <paramref name="maskProblem"/> (why
    /// the folder's ground-truth masks could not all be used), a <see cref="ResultWarnings.MaskUnusableCode"/> warning too:
    /// the masks are the CLI's (the job never sees them).
    /// </summary>
    public static IReadOnlyList<ResultWarning> Of(DiscoveredImageFolder found, ClusteringResult result, ClusteringJobOptions requested, string? maskProblem = null)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(result);
        var dataset = found.Dataset;
        var warnings = result.Warnings;
        if (dataset.HasLabels)
        {
            var missing = ResultWarnings.ClassesWithoutImages(result, dataset.ClassNames)
                .Select(name => (name, dataset.Images.Count(image => image.Label == name)))
                .ToArray();
            var classes = ResultWarnings.ClassWithoutImages(result, dataset.ClassNames.Count, missing, requested);
            warnings = ResultWarnings.Replace(warnings, ResultWarnings.ClassWithoutImagesCode, classes);
        }
        var masks = maskProblem is null ? null : new ResultWarning(ResultWarnings.MaskUnusableCode, maskProblem + ".");
        return ResultWarnings.Replace(warnings, ResultWarnings.MaskUnusableCode, masks);
    }

    /// <summary>Prints each warning in yellow.</summary>
    public static void Print(IAnsiConsole console, IReadOnlyList<ResultWarning> warnings)
    {
        foreach (var warning in warnings)
        {
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning.Message)}");
        }
    }
}
