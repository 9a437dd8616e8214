using System.Globalization;
using AnomalyClustering.Embedding.Pipeline;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>Prints a result for a person: the clusters, the metrics when labels exist, skipped images, and where the files are.</summary>
internal static class ResultReport
{
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
        if (result.AnomalyThreshold is { } threshold)
        {
            var above = result.Images.Count(image => image.AnomalyScore > threshold);
            var counts = result.Detection is { GoodAboveThreshold: { } falseAlarms, DefectiveAboveThreshold: { } detected }
                ? FormattableString.Invariant($": {detected} of {result.Detection.DefectiveImages} defective and {falseAlarms} of {result.Detection.GoodImages} good images")
                : string.Empty;
            console.MarkupLine(FormattableString.Invariant(
                $"detection threshold {threshold:G4} (from the normal images alone): {above} of {result.Images.Count} images above it{counts}"));
        }
        if (result.Errors.Count > 0)
        {
            var first = result.Errors[0];
            console.MarkupLine($"[yellow]{result.Errors.Count} image(s) could not be used and were left out[/] (listed in result.json), e.g. {Markup.Escape(first.Id)}: {Markup.Escape(first.Message)}");
        }
        console.MarkupLine($"wrote [blue]{Markup.Escape(clustersCsv)}[/] and [blue]{Markup.Escape(resultJson)}[/]");
        if (reportHtml is not null)
        {
            console.MarkupLine($"report (galleries, heat maps, dendrogram): [blue]{Markup.Escape(reportHtml)}[/]");
        }
    }
}
