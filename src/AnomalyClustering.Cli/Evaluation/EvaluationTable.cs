using System.Globalization;
using System.Text;
using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Evaluation;

/// <summary>One evaluated job: a category in one mode at one tau, its scores and the time of each stage.</summary>
/// <param name="Category">The category (dataset folder name).</param>
/// <param name="Group">Its averaging group.</param>
/// <param name="Mode">The patch weighting mode.</param>
/// <param name="Tau">The softmax temperature.</param>
/// <param name="Images">Images clustered (the weight in the averages).</param>
/// <param name="Classes">Label classes, K.</param>
/// <param name="FailedImages">Images the job could not use.</param>
/// <param name="Scores">NMI, ARI and F1 against the labels.</param>
/// <param name="EmbedSeconds">Decoding and embedding, normal images included (result.json's stage timings).</param>
/// <param name="WeightSeconds">Patch scores, weights and image embeddings.</param>
/// <param name="ClusterSeconds">Distances, linkage, cut and metrics.</param>
/// <param name="WallSeconds">The whole job as the command saw it (copying images into the store included).</param>
/// <param name="Detection">Image AUROC of the anomaly scores (good vs defective); null in the average mode or without a <c>good</c> class.</param>
/// <param name="PixelDetection">Pixel AUROC and PRO against the category's ground-truth masks; null without masks.</param>
internal sealed record EvaluationRow(
    string Category, string Group, ClusteringMode Mode, double Tau, int Images, int Classes, int FailedImages, ClusteringScores Scores,
    double EmbedSeconds, double WeightSeconds, double ClusterSeconds, double WallSeconds, DetectionScores? Detection = null,
    PixelDetectionScores? PixelDetection = null)
{
    /// <summary>The row's scores as <see cref="GroupAverage"/> takes them.</summary>
    public CategoryScores CategoryScores => CategoryScores.From(Category, Group, Scores);

    /// <summary>The row of a finished job.</summary>
    public static EvaluationRow From(EvaluationCategory category, ClusteringResult result, TimeSpan wall)
    {
        double Stage(PipelineStage stage) => result.Timings.Where(t => t.Stage == stage).Sum(t => t.Elapsed.TotalSeconds);
        var scores = result.Scores ?? throw new InvalidOperationException($"the result of '{category.Name}' has no scores although its images are labelled.");
        return new EvaluationRow(
            category.Name, category.Group, result.Options.Mode, result.Options.Tau, result.Images.Count, result.ClassNames.Count,
            result.Errors.Count(e => !e.IsNormalImage), scores,
            Stage(PipelineStage.EmbedNormalImages) + Stage(PipelineStage.EmbedImages), Stage(PipelineStage.WeightPatches), Stage(PipelineStage.Cluster),
            wall.TotalSeconds, result.Detection, result.PixelDetection);
    }

    /// <summary>The image AUROC to three decimals, or a dash when there is none.</summary>
    public string ImageAurocText => Detection is { } detection ? detection.ImageAuroc.ToString("F3", CultureInfo.InvariantCulture) : "-";

    /// <summary>The pixel AUROC to three decimals, or a dash when there is none.</summary>
    public string PixelAurocText => PixelDetection is { } pixels ? pixels.PixelAuroc.ToString("F3", CultureInfo.InvariantCulture) : "-";

    /// <summary>The PRO to three decimals, or a dash when there is none.</summary>
    public string ProText => PixelDetection is { } pixels ? pixels.Pro.ToString("F3", CultureInfo.InvariantCulture) : "-";
}

/// <summary>A job the protocol could not run for a category (semi-supervised without normal images), and why.</summary>
/// <param name="Category">The category.</param>
/// <param name="Mode">The mode that was skipped.</param>
/// <param name="Reason">Why, for a person.</param>
internal sealed record EvaluationSkip(string Category, ClusteringMode Mode, string Reason);

/// <summary>Image-count-weighted averages of one mode and tau over a group of categories (or all of them).</summary>
/// <param name="Mode">The mode.</param>
/// <param name="Tau">The temperature.</param>
/// <param name="Scores">The averages.</param>
internal sealed record EvaluationAverage(ClusteringMode Mode, double Tau, GroupScores Scores);

/// <summary>The evaluation's outputs: the Spectre table on screen, <c>eval.csv</c> and <c>eval.md</c>.</summary>
internal static class EvaluationTable
{
    /// <summary>File name of the per-job table.</summary>
    public const string CsvFileName = "eval.csv";

    /// <summary>File name of the Markdown tables (per job, then the averages).</summary>
    public const string MarkdownFileName = "eval.md";

    /// <summary>The group name of the average over every category.</summary>
    public const string AllGroup = "all";

    /// <summary>
    /// Per mode and tau: the image-count-weighted average of each group (METHOD section 5) when there are several groups,
    /// then over all categories.
    /// </summary>
    public static IReadOnlyList<EvaluationAverage> Averages(IReadOnlyList<EvaluationRow> rows)
    {
        var averages = new List<EvaluationAverage>();
        foreach (var setting in rows.GroupBy(row => (row.Mode, row.Tau)))
        {
            var scores = setting.Select(row => row.CategoryScores).ToList();
            var groups = GroupAverage.ByGroup(scores);
            if (groups.Count > 1)
            {
                averages.AddRange(groups.Select(g => new EvaluationAverage(setting.Key.Mode, setting.Key.Tau, g)));
            }
            averages.Add(new EvaluationAverage(setting.Key.Mode, setting.Key.Tau, GroupAverage.Of(AllGroup, scores)));
        }
        return averages;
    }

    /// <summary>Writes eval.csv: one row per job, full precision.</summary>
    public static void WriteCsv(string path, IReadOnlyList<EvaluationRow> rows)
    {
        var text = new StringBuilder("category,group,mode,tau,images,classes,failed_images,nmi,ari,f1,embed_s,weight_s,cluster_s,wall_s,image_auroc,pixel_auroc,pro\n");
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{CsvText.Escape(row.Category)},{CsvText.Escape(row.Group)},{ClusteringOptionNames.Of(row.Mode)},{row.Tau:R},{row.Images},{row.Classes},{row.FailedImages},");
            text.Append(CultureInfo.InvariantCulture,
                $"{row.Scores.NormalizedMutualInformation:R},{row.Scores.AdjustedRandIndex:R},{row.Scores.HungarianF1:R},");
            text.Append(CultureInfo.InvariantCulture, $"{row.EmbedSeconds:F3},{row.WeightSeconds:F3},{row.ClusterSeconds:F3},{row.WallSeconds:F3},");
            text.Append(row.Detection is { } detection ? detection.ImageAuroc.ToString("R", CultureInfo.InvariantCulture) : string.Empty).Append(',');
            text.Append(row.PixelDetection is { } pixels ? pixels.PixelAuroc.ToString("R", CultureInfo.InvariantCulture) : string.Empty).Append(',');
            text.Append(row.PixelDetection is { } pro ? pro.Pro.ToString("R", CultureInfo.InvariantCulture) : string.Empty).Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>Writes eval.md: the command, the per-job table, the averages and the skipped jobs.</summary>
    public static void WriteMarkdown(string path, string command, IReadOnlyList<EvaluationRow> rows, IReadOnlyList<EvaluationSkip> skipped)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Command: `{command}`\n\n");
        text.Append("| category | mode | tau | images | classes | NMI | ARI | F1 | image AUROC | pixel AUROC | PRO | embed (s) | weight (s) | cluster (s) | wall (s) |\n");
        text.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {row.Category} | {ClusteringOptionNames.Of(row.Mode)} | {row.Tau:G} | {row.Images} | {row.Classes} | {Score(row.Scores.NormalizedMutualInformation)} | {Score(row.Scores.AdjustedRandIndex)} | {Score(row.Scores.HungarianF1)} | {row.ImageAurocText} | {row.PixelAurocText} | {row.ProText} | {row.EmbedSeconds:F1} | {row.WeightSeconds:F1} | {row.ClusterSeconds:F2} | {row.WallSeconds:F0} |\n");
        }
        text.Append("\nAverages weighted by image count (METHOD section 5):\n\n");
        text.Append("| group | mode | tau | categories | images | NMI | ARI | F1 |\n|---|---|---|---|---|---|---|---|\n");
        foreach (var average in Averages(rows))
        {
            var g = average.Scores;
            text.Append(CultureInfo.InvariantCulture,
                $"| {g.Group} | {ClusteringOptionNames.Of(average.Mode)} | {average.Tau:G} | {g.CategoryCount} | {g.ImageCount} | {Score(g.NormalizedMutualInformation)} | {Score(g.AdjustedRandIndex)} | {Score(g.HungarianF1)} |\n");
        }
        if (skipped.Count > 0)
        {
            text.Append('\n');
            foreach (var skip in skipped)
            {
                text.Append(CultureInfo.InvariantCulture, $"Not run: {skip.Category} {ClusteringOptionNames.Of(skip.Mode)} ({skip.Reason}).\n");
            }
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>Prints the per-job table and the averages.</summary>
    public static void Print(IAnsiConsole console, IReadOnlyList<EvaluationRow> rows, IReadOnlyList<EvaluationSkip> skipped)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{rows.Count} evaluation jobs");
        foreach (var (name, right) in new[]
        {
            ("category", false), ("mode", false), ("tau", true), ("images", true), ("NMI", true), ("ARI", true), ("F1", true), ("image AUROC", true),
            ("pixel AUROC", true), ("PRO", true), ("embed s", true), ("weight s", true), ("cluster s", true), ("wall s", true),
        })
        {
            table.AddColumn(right ? new TableColumn(name).RightAligned() : new TableColumn(name));
        }
        foreach (var row in rows)
        {
            table.AddRow(
                Markup.Escape(row.Category), ClusteringOptionNames.Of(row.Mode), Invariant($"{row.Tau:G}"), Invariant($"{row.Images}"),
                Score(row.Scores.NormalizedMutualInformation), Score(row.Scores.AdjustedRandIndex), Score(row.Scores.HungarianF1), row.ImageAurocText, row.PixelAurocText, row.ProText,
                Invariant($"{row.EmbedSeconds:F1}"), Invariant($"{row.WeightSeconds:F1}"), Invariant($"{row.ClusterSeconds:F2}"), Invariant($"{row.WallSeconds:F0}"));
        }
        console.Write(table);

        var averages = new Table().Border(TableBorder.Rounded).Title("weighted by image count");
        foreach (var (name, right) in new[] { ("group", false), ("mode", false), ("tau", true), ("categories", true), ("images", true), ("NMI", true), ("ARI", true), ("F1", true) })
        {
            averages.AddColumn(right ? new TableColumn(name).RightAligned() : new TableColumn(name));
        }
        foreach (var average in Averages(rows))
        {
            var g = average.Scores;
            averages.AddRow(
                Markup.Escape(g.Group), ClusteringOptionNames.Of(average.Mode), Invariant($"{average.Tau:G}"), Invariant($"{g.CategoryCount}"), Invariant($"{g.ImageCount}"),
                Score(g.NormalizedMutualInformation), Score(g.AdjustedRandIndex), Score(g.HungarianF1));
        }
        console.Write(averages);
        foreach (var skip in skipped)
        {
            console.MarkupLine($"[yellow]not run[/]: {Markup.Escape(skip.Category)} {ClusteringOptionNames.Of(skip.Mode)} ({Markup.Escape(skip.Reason)})");
        }
    }

    private static string Score(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
