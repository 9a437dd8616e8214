using System.CommandLine;
using System.Globalization;
using System.Text;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line evaluate &lt;result.json&gt;...</c>: measures the line assignment rule offline on the labelled embeddings of
/// earlier results (<see cref="LineAssignmentEvaluation"/>) and prints Markdown tables: assignment accuracy of the held-back
/// half, and novelty figures with each defect class held out of the catalog in turn.
/// </summary>
internal static class LineEvaluateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var results = new Argument<string[]>("result") { Description = "result.json files of labelled jobs (cluster writes one; it holds every image's embedding).", Arity = ArgumentArity.OneOrMore };
        var seed = new Option<int>("--seed") { Description = "Seed of the stratified split into catalog and assigned halves.", DefaultValueFactory = _ => 0 };
        var fraction = new Option<double>("--catalog-fraction") { Description = "Share of each class that makes the catalog; the rest is assigned.", DefaultValueFactory = _ => 0.5 };
        var margin = new Option<double>("--margin") { Description = "Least relative lead of the nearest cluster's Ward increase over the second's for a clear decision.", DefaultValueFactory = _ => AssignmentRuleSettings.Default.Margin };
        var factor = new Option<double>("--acceptance-factor") { Description = "Novel beyond this many times the nearest cluster's spread.", DefaultValueFactory = _ => AssignmentRuleSettings.Default.AcceptanceFactor };
        var normalClass = new Option<string>("--normal-class") { Description = "The class never held out (normal images).", DefaultValueFactory = _ => "good" };
        var command = new Command("evaluate", "Measure the assignment and novelty rule offline on the embeddings and labels of result.json files.")
        {
            results, seed, fraction, margin, factor, normalClass,
        };
        command.SetAction(parseResult =>
        {
            var settings = new AssignmentRuleSettings(parseResult.GetValue(margin), parseResult.GetValue(factor));
            LineRuleOptions.Check(settings);
            return Run(console, parseResult.GetValue(results)!, settings,
                // An int like every other --seed; the split takes it as its unsigned bit pattern (0.. keep their value).
                unchecked((ulong)parseResult.GetValue(seed)), parseResult.GetValue(fraction), parseResult.GetValue(normalClass)!);
        });
        return command;
    }

    private static int Run(CliConsole console, string[] resultPaths, AssignmentRuleSettings settings, ulong seed, double fraction, string normalClass)
    {
        var accuracy = new StringBuilder();
        var novelty = new StringBuilder();
        accuracy.AppendLine("| dataset | catalog from | catalog / assigned images | nearest-cluster accuracy | accuracy (novel counts wrong) | flagged novel | ambiguous |");
        accuracy.AppendLine("|---|---|---|---|---|---|---|");
        novelty.AppendLine("| dataset | catalog from | held-out class | held-out / known images | novelty AUROC | held-out flagged novel | known flagged novel |");
        novelty.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var path in resultPaths)
        {
            var (name, data) = Load(path);
            LineEvaluationReport report;
            try
            {
                report = LineAssignmentEvaluation.Evaluate(data, settings, seed, fraction, normalClass);
            }
            catch (InvalidClusteringInputException e)
            {
                throw new CliInputException($"{path}: {e.Message}", e);
            }
            foreach (var row in report.Accuracy)
            {
                accuracy.AppendLine(Invariant($"| {name} | {Describe(row.Construction)} | {report.CatalogImages} / {report.AssignedImages} | {row.NearestAccuracy:F3} | {row.Accuracy:F3} | {row.NovelShare:F3} | {row.AmbiguousShare:F3} |"));
            }
            foreach (var group in report.Novelty.GroupBy(n => n.Construction))
            {
                foreach (var row in group)
                {
                    novelty.AppendLine(Invariant($"| {name} | {Describe(row.Construction)} | {row.HeldOutClass} | {row.HeldOutImages} / {row.KnownImages} | {row.Auroc:F3} | {row.HeldOutFlaggedShare:F3} | {row.KnownFlaggedShare:F3} |"));
                }
                novelty.AppendLine(Invariant($"| {name} | {Describe(group.Key)} | **mean** | | **{group.Average(n => n.Auroc):F3}** | **{group.Average(n => n.HeldOutFlaggedShare):F3}** | **{group.Average(n => n.KnownFlaggedShare):F3}** |"));
            }
        }
        console.OutWriter.WriteLine(Invariant($"Rule: nearest by Ward increase, margin {settings.Margin}, acceptance factor {settings.AcceptanceFactor}; split seed {seed}, catalog fraction {fraction}."));
        console.OutWriter.WriteLine();
        console.OutWriter.WriteLine("Assignment of the held-back half to a catalog of every class:");
        console.OutWriter.WriteLine();
        console.OutWriter.Write(accuracy.ToString());
        console.OutWriter.WriteLine();
        console.OutWriter.WriteLine("Novelty, each defect class held out of the catalog in turn:");
        console.OutWriter.WriteLine();
        console.OutWriter.Write(novelty.ToString());
        return CliExitCodes.Success;
    }

    private static (string Name, LabelledEmbeddings Data) Load(string path)
    {
        var (result, source, _, embeddings) = LineResultFile.Read(path);
        if (result.Images.Any(image => image.Label is null))
        {
            throw new CliInputException($"'{path}' has images without a label; the evaluation needs a labelled job's result (class folders or MVTec layout).");
        }
        var name = Path.GetFileName(source.Path.TrimEnd('/', '\\'));
        return (name.Length == 0 ? path : name, new LabelledEmbeddings(embeddings, result.EmbeddingDimension, result.Images.Select(image => image.Label!).ToList()));
    }

    private static string Describe(CatalogConstruction construction) => construction == CatalogConstruction.Labels ? "labels" : "Ward cut, majority names";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
