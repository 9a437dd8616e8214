using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Evaluation;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>eval &lt;root&gt;</c>: the evaluation protocol of METHOD section 6 over one MVTec-layout dataset or a folder of them.
/// Every category in every mode (and tau) is one job through the embedded silo, exactly as <c>cluster</c> runs it; the
/// per-job NMI / ARI / F1 and stage times, and their image-count-weighted group averages, go to the screen, eval.csv and
/// eval.md, each job's result.json and clusters.csv (and with <c>--reports</c> its report.html) to a folder of its own.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Modes evaluated unless <c>--modes</c> says otherwise: the paper's two.</summary>
    public static readonly string[] DefaultModes = ["unsupervised", "semi-supervised"];

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var rootArgument = new Argument<string>("root") { Description = "An MVTec-layout dataset (test/<class>/, train/good/) or a folder of them (one per category, as MVTec AD)." };
        var categories = new Option<string[]>("--categories") { Description = "Evaluate only these categories (folder names). Default: all.", HelpName = "name", AllowMultipleArgumentsPerToken = true };
        var modes = new Option<string[]>("--modes")
        {
            Description = "Patch weighting modes to evaluate; semi-supervised is skipped for categories without train/good.",
            DefaultValueFactory = _ => DefaultModes,
            HelpName = "mode",
            AllowMultipleArgumentsPerToken = true,
        };
        modes.AcceptOnlyFromAmong(ClusteringOptionNames.Modes);
        var taus = new Option<double[]>("--tau")
        {
            Description = "Softmax temperatures to evaluate (each is one job per category and mode).",
            DefaultValueFactory = _ => [new ClusteringJobOptions().Tau],
            AllowMultipleArgumentsPerToken = true,
        };
        var linkage = new Option<string>("--linkage") { Description = "Agglomerative linkage.", DefaultValueFactory = _ => "ward", HelpName = "ward|average|complete|single" };
        linkage.AcceptOnlyFromAmong(ClusteringOptionNames.Linkages);
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice (reference sampling, normal-image subset).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out", "-o") { Description = "Folder for eval.csv, eval.md and one result folder per job.", DefaultValueFactory = _ => "eval-out", HelpName = "dir" };
        var store = new Option<string?>("--store")
        {
            Description = "Blob store folder of the embedded silo. Default: a temporary one, removed afterwards (the jobs of a category still share its feature cache).",
            HelpName = "dir",
        };
        var reports = new Option<bool>("--reports") { Description = "Also write each job's report.html (galleries, heat maps) into its result folder." };
        var image = new ImageJobOptionSet(singleJob: false);
        var command = new Command("eval", "Evaluate the clustering against the labels of MVTec-layout datasets (METHOD section 6): NMI, ARI, F1 per category and mode, weighted averages.")
        {
            rootArgument, categories, modes, taus, linkage, seed, output, store, reports,
        };
        image.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var found = EvaluationCategories.Discover(parseResult.GetValue(rootArgument)!, parseResult.GetValue(categories) ?? []);
            var baseOptions = image.Apply(parseResult, new ClusteringJobOptions()) with
            {
                Linkage = ClusteringOptionNames.ParseLinkage(parseResult.GetValue(linkage)!),
                Seed = parseResult.GetValue(seed),
            };
            var settings = (parseResult.GetValue(modes) ?? DefaultModes).Distinct().Select(ClusteringOptionNames.ParseMode).ToList();
            var temperatures = (parseResult.GetValue(taus) ?? []).Distinct().ToList();
            if (settings.Count == 0 || temperatures.Count == 0)
            {
                throw new CliInputException("give at least one mode (--modes) and one temperature (--tau).");
            }
            var commandLine = string.Join(' ', new[] { CliApplication.ToolName }.Concat(parseResult.Tokens.Select(token => token.Value)));
            var plan = new EvaluationPlan(found, settings, temperatures, baseOptions, image.Describe(parseResult), commandLine, parseResult.GetValue(reports));
            return Task.FromResult(Run(console, plan, image.Runtime(parseResult), parseResult.GetValue(output)!, parseResult.GetValue(store), cancellationToken));
        });
        return command;
    }

    /// <summary>What to evaluate: the categories, modes and temperatures, the shared job options and backbone.</summary>
    /// <param name="Categories">The categories, in order.</param>
    /// <param name="Modes">The modes, in order.</param>
    /// <param name="Temperatures">The temperatures tau, in order.</param>
    /// <param name="Options">The options of every job except mode and tau.</param>
    /// <param name="Backbone">The backbone of every job.</param>
    /// <param name="CommandLine">The command as typed, recorded in eval.md.</param>
    /// <param name="WriteReports">Whether each job also gets its report.html.</param>
    internal sealed record EvaluationPlan(
        IReadOnlyList<EvaluationCategory> Categories, IReadOnlyList<ClusteringMode> Modes, IReadOnlyList<double> Temperatures,
        ClusteringJobOptions Options, BackboneDescription Backbone, string CommandLine, bool WriteReports = false);

    /// <summary>Runs every job of the plan on one embedded silo, writes the tables, returns the exit code (1 when a job failed).</summary>
    internal static int Run(CliConsole console, EvaluationPlan plan, BackboneRuntimeOptions runtime, string outputFolder, string? storeFolder, CancellationToken cancellationToken)
    {
        plan.Options.Validate();
        var screen = console.Out;
        var rows = new List<EvaluationRow>();
        var skipped = new List<EvaluationSkip>();
        var failed = false;
        var temporaryStore = storeFolder is null ? Path.Combine(Path.GetTempPath(), $"anomaly-cluster-eval-{Guid.NewGuid():n}") : null;
        ResultFiles.CreateOutputFolder(outputFolder);
        screen.MarkupLine(
            $"[bold]eval[/]: {plan.Categories.Count} categories ({Markup.Escape(string.Join(", ", plan.Categories.Select(c => c.Name)))}), modes {string.Join(", ", plan.Modes.Select(ClusteringOptionNames.Of))}, tau {string.Join(", ", plan.Temperatures.Select(t => t.ToString(CultureInfo.InvariantCulture)))}, backbone {Markup.Escape(plan.Backbone.Name)}");
        // Started at the first job, so that a root whose every job is skipped starts no silo.
        EmbeddedCluster? cluster = null;
        EmbeddedCluster StartCluster()
        {
            // A temporary store is this run's own (a new folder, deleted at the end): no server can be on it, so file locking
            // being off is nothing to warn of there.
            var warnings = temporaryStore is null ? console.Error : TextWriter.Null;
            var started = EmbeddedCluster.StartAsync(storeFolder ?? temporaryStore!, runtime, plan.Options.BatchSize, plan.Options.ClusteringMemoryBudgetBytes, warnings, cancellationToken).GetAwaiter().GetResult();
            try
            {
                started.Backbones.Get(plan.Backbone.ToJson());
            }
            catch
            {
                started.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
            return started;
        }
        try
        {
            foreach (var category in plan.Categories)
            {
                DiscoveredImageFolder found;
                try
                {
                    found = ImageFolderDiscovery.Discover(category.Folder);
                }
                catch (Exception e) when (UserErrors.Describe(e) is { } message)
                {
                    // A category whose folders cannot be read is one failed row, not the end of the evaluation.
                    failed = true;
                    foreach (var mode in plan.Modes)
                    {
                        skipped.Add(new EvaluationSkip(category.Name, mode, "failed: " + message));
                    }
                    screen.MarkupLine($"[red]skipping[/] {Markup.Escape(category.Name)}: {Markup.Escape(message)}");
                    continue;
                }
                foreach (var mode in plan.Modes)
                {
                    if (mode == ClusteringMode.SemiSupervised && found.Dataset.NormalImages.Count == 0)
                    {
                        skipped.Add(new EvaluationSkip(category.Name, mode, "no normal images in train/good"));
                        screen.MarkupLine($"[yellow]skipping[/] {Markup.Escape(category.Name)} semi-supervised: no normal images in train/good");
                        continue;
                    }
                    foreach (var tau in plan.Temperatures)
                    {
                        var options = plan.Options with { Mode = mode, Tau = tau };
                        screen.MarkupLine(FormattableString.Invariant(
                            $"[bold]{Markup.Escape(category.Name)}[/] {ClusteringOptionNames.Of(mode)} tau {tau}: {found.Dataset.Images.Count} images, {found.Dataset.ClassNames.Count} classes"));
                        // Outside the per-job catch: a backbone that cannot open fails the evaluation once, not every job.
                        cluster ??= StartCluster();
                        try
                        {
                            var clock = Stopwatch.StartNew();
                            var (masks, maskProblem) = GroundTruthMasks.Find(found);
                            var result = ClusterCommand.RunJob(console, cluster, found, masks, options, plan.Backbone, cancellationToken);
                            // As cluster does: a class of only unusable files, counted over the whole folder, and masks
                            // that could not all be used, in the job's result.json and on the screen before its scores
                            // (they are over fewer classes, or have fewer or no pixel metrics).
                            result = result with { Warnings = ConsoleWarnings.Of(found, result, options, maskProblem) };
                            ConsoleWarnings.Print(screen, result.Warnings);
                            var row = EvaluationRow.From(category, result, clock.Elapsed);
                            var jobFolder = JobFolder(outputFolder, category, mode, tau);
                            var source = ClusterCommand.Source(found, plan.Backbone);
                            ResultFiles.Write(jobFolder, result, source);
                            if (plan.WriteReports)
                            {
                                HtmlReportFiles.Write(jobFolder, result, source, found.Dataset, cancellationToken);
                            }
                            rows.Add(row);
                            screen.MarkupLine(FormattableString.Invariant(
                                $"  NMI {row.Scores.NormalizedMutualInformation:F3}  ARI {row.Scores.AdjustedRandIndex:F3}  F1 {row.Scores.HungarianF1:F3}  image AUROC {row.ImageAurocText}  pixel AUROC {row.PixelAurocText}  PRO {row.ProText}  (embed {row.EmbedSeconds:F1} s, weight {row.WeightSeconds:F1} s, cluster {row.ClusterSeconds:F2} s)"));
                        }
                        catch (Exception e) when (e is not OperationCanceledException && UserErrors.Describe(e) is { } message)
                        {
                            // One category's bad input must not throw away the hours the others took.
                            failed = true;
                            skipped.Add(new EvaluationSkip(category.Name, mode, "failed: " + message));
                            screen.MarkupLine($"  [red]failed[/]: {Markup.Escape(message)}");
                        }
                    }
                }
            }
        }
        finally
        {
            cluster?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (temporaryStore is not null && Directory.Exists(temporaryStore))
            {
                Directory.Delete(temporaryStore, recursive: true);
            }
        }

        if (rows.Count == 0)
        {
            throw new CliInputException($"no evaluation job ran: {string.Join("; ", skipped.Select(s => $"{s.Category} {ClusteringOptionNames.Of(s.Mode)}: {s.Reason}"))}.");
        }
        var csv = Path.Combine(outputFolder, EvaluationTable.CsvFileName);
        var markdown = Path.Combine(outputFolder, EvaluationTable.MarkdownFileName);
        EvaluationTable.WriteCsv(csv, rows);
        EvaluationTable.WriteMarkdown(markdown, plan.CommandLine, rows, skipped);
        EvaluationTable.Print(screen, rows, skipped);
        screen.MarkupLine($"wrote [blue]{Markup.Escape(csv)}[/] and [blue]{Markup.Escape(markdown)}[/]");
        return failed ? CliExitCodes.InputError : CliExitCodes.Success;
    }

    /// <summary>Where one job's result.json and clusters.csv go: <c>&lt;out&gt;/&lt;category&gt;/&lt;mode&gt;-tau&lt;tau&gt;</c>.</summary>
    public static string JobFolder(string outputFolder, EvaluationCategory category, ClusteringMode mode, double tau) =>
        Path.Combine(outputFolder, category.Name, FormattableString.Invariant($"{ClusteringOptionNames.Of(mode)}-tau{tau}"));
}
