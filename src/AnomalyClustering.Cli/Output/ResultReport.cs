using System.Globalization;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>Prints a result for a person: the clusters, the metrics when labels exist, skipped images, and where the files are.</summary>
internal static class ResultReport
{
    private const int MaxListedErrors = 20;

    /// <summary>Writes the per-cluster table, metrics, errors and output paths.</summary>
    public static void Print(IAnsiConsole console, ClusteringResult result, string clustersCsv, string resultJson, string? reportHtml = null)
    {
        var clusters = ClusterSummary.Of(result);
        var hasLabels = result.Scores is not null;
        var table = new Table().Border(TableBorder.Rounded).Title($"{result.ClusterCount} clusters of {result.Images.Count} images");
        table.AddColumn(new TableColumn("cluster").RightAligned());
        table.AddColumn(new TableColumn("images").RightAligned());
        if (hasLabels)
        {
            table.AddColumn("main label");
            table.AddColumn(new TableColumn("purity").RightAligned());
            table.AddColumn("labels");
        }
        else
        {
            table.AddColumn("examples");
        }
        foreach (var cluster in clusters)
        {
            if (hasLabels)
            {
                var (main, count) = cluster.LabelCounts[0];
                table.AddRow(
                    cluster.Cluster.ToString(CultureInfo.InvariantCulture),
                    cluster.Size.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(main),
                    ((double)count / cluster.Size).ToString("P0", CultureInfo.InvariantCulture),
                    Markup.Escape(string.Join(", ", cluster.LabelCounts.Select(pair => $"{pair.Key} {pair.Value}"))));
            }
            else
            {
                table.AddRow(
                    cluster.Cluster.ToString(CultureInfo.InvariantCulture),
                    cluster.Size.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(string.Join(", ", cluster.ExampleIds) + (cluster.Size > cluster.ExampleIds.Count ? ", ..." : string.Empty)));
            }
        }
        console.Write(table);
        if (result.ClusterCountChoice is { } choice)
        {
            PrintClusterCountChoice(console, choice);
        }

        if (result.Scores is { } scores)
        {
            console.MarkupLine(FormattableString.Invariant(
                $"[bold]NMI {scores.NormalizedMutualInformation:F3}   ARI {scores.AdjustedRandIndex:F3}   F1 {scores.HungarianF1:F3}[/]   ({result.ClassNames.Count} classes, {result.Images.Count} images)"));
        }
        if (result.Detection is { } detection)
        {
            console.MarkupLine(FormattableString.Invariant(
                $"[bold]image AUROC {detection.ImageAuroc:F3}[/]   (anomaly score = largest patch score; {detection.DefectiveImages} defective vs {detection.GoodImages} good images)"));
        }
        if (result.PixelDetection is { } pixels)
        {
            console.MarkupLine(FormattableString.Invariant(
                $"[bold]pixel AUROC {pixels.PixelAuroc:F3}   PRO {pixels.Pro:F3}[/]   (patch-score maps against the ground-truth masks: {pixels.Regions} defect regions in {pixels.Images} images; PRO to FPR {pixels.ProIntegrationLimit:G})"));
        }
        if (result.AnomalyThreshold is { } threshold)
        {
            var above = result.Images.Count(image => image.AnomalyScore > threshold);
            var counts = result.Detection is { GoodAboveThreshold: { } falseAlarms, DefectiveAboveThreshold: { } detected }
                ? FormattableString.Invariant($": {detected} of {result.Detection.DefectiveImages} defective and {falseAlarms} of {result.Detection.GoodImages} good images")
                : string.Empty;
            console.MarkupLine(FormattableString.Invariant(
                $"detection threshold {threshold:G4} (from the normal images alone): {above} of {result.Images.Count} images above it{counts}"));
        }
        if (result.DetectedGood is { } good)
        {
            console.MarkupLine(FormattableString.Invariant(
                $"detect, then cluster: the {good.Images} images at or under the threshold are cluster {good.Cluster}; the other {result.Images.Count - good.Images} are clustered into the rest"));
        }
        else if (result.Options.DetectThenCluster)
        {
            console.MarkupLine($"[yellow]detect-then-cluster was not applied[/]: {Markup.Escape(result.AlgorithmReason ?? "no reason recorded")}");
        }
        if (result.Errors.Count > 0)
        {
            // Each file left out by name with its reason (up to a screenful; result.json has them all), never in silence.
            console.MarkupLine($"[yellow]{result.Errors.Count} image(s) could not be used and were left out[/] (listed in result.json):");
            foreach (var error in result.Errors.Take(MaxListedErrors))
            {
                console.MarkupLine($"  left out {Markup.Escape(error.Id)} ({Markup.Escape(error.Reason)}): {Markup.Escape(error.Message)}");
            }
            if (result.Errors.Count > MaxListedErrors)
            {
                console.MarkupLine($"  ... and {result.Errors.Count - MaxListedErrors} more");
            }
        }
        console.MarkupLine($"wrote [blue]{Markup.Escape(clustersCsv)}[/] and [blue]{Markup.Escape(resultJson)}[/]");
        if (reportHtml is not null)
        {
            console.MarkupLine($"report (galleries, heat maps, dendrogram): [blue]{Markup.Escape(reportHtml)}[/]");
        }
    }

    /// <summary>Which K was found and by which criterion, with the whole curve so that a person can pick another K (<c>-k</c>).</summary>
    private static void PrintClusterCountChoice(IAnsiConsole console, Core.Clustering.ClusterCountChoice choice)
    {
        var criterion = ClusteringOptionNames.Of(choice.Criterion);
        console.MarkupLine(FormattableString.Invariant(
            $"[bold]K = {choice.ClusterCount}[/] found automatically: the largest {criterion} for K = {choice.Curve[0].ClusterCount}..{choice.Curve[^1].ClusterCount} (another K: -k K)"));
        console.MarkupLine("  " + string.Join("  ", choice.Curve.Select(score => FormattableString.Invariant(
            $"{(score.ClusterCount == choice.ClusterCount ? "[bold]" : "")}{score.ClusterCount}: {(double.IsNaN(score.Value) ? "-" : score.Value.ToString("G4", CultureInfo.InvariantCulture))}{(score.ClusterCount == choice.ClusterCount ? "[/]" : "")}"))));
    }
}
