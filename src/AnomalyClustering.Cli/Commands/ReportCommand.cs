using System.CommandLine;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Images;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>report &lt;result.json&gt;</c>: writes the HTML report of an earlier job from its result document, finding the images
/// under the dataset folder the result names (or <c>--images</c>), optionally with cluster names from a names.json file,
/// which are also stored into the result document and clusters.csv beside it.
/// </summary>
internal static class ReportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var resultArgument = new Argument<string>("result") { Description = "A result.json written by cluster, demo or eval, or the folder that holds it." };
        var images = new Option<string?>("--images") { Description = "Folder the image ids are relative to. Default: the dataset folder recorded in the result.", HelpName = "dir" };
        var names = new Option<string?>("--names") { Description = "Cluster names, a JSON object of cluster index to name (the report's 'Download names.json').", HelpName = "names.json" };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for report.html and thumbnails/. Default: the result's folder.", HelpName = "dir" };
        var command = new Command("report", "Write the HTML report (galleries, heat maps, dendrogram, confusion matrix) of a result.json.") { resultArgument, images, names, output };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            console, parseResult.GetValue(resultArgument)!, parseResult.GetValue(images), parseResult.GetValue(names), parseResult.GetValue(output), cancellationToken)));
        return command;
    }

    private static int Run(CliConsole console, string resultPath, string? imagesFolder, string? namesPath, string? outputFolder, CancellationToken cancellationToken)
    {
        // A result folder (what cluster's -o names) stands for its result.json, as line create --from-result takes it.
        if (Directory.Exists(resultPath))
        {
            resultPath = File.Exists(Path.Combine(resultPath, ResultFolder.SummaryFileName))
                ? Path.Combine(resultPath, ResultFolder.SummaryFileName)
                : throw new CliInputException($"'{resultPath}' is a folder without a {ResultFolder.SummaryFileName}; give a result folder written by cluster, or its result.json.");
        }
        if (!File.Exists(resultPath))
        {
            throw new CliInputException($"result file '{resultPath}' does not exist.");
        }
        ClusteringResult result;
        ResultSource source;
        try
        {
            (result, source) = ResultFolder.ReadResultFile(resultPath);
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException($"'{resultPath}' is not a result.json of anomaly-cluster: {e.Message}", e);
        }
        var resultFolder = Path.GetDirectoryName(Path.GetFullPath(resultPath))!;
        if (namesPath is not null)
        {
            var named = HtmlReportFiles.ReadNames(namesPath);
            named.CheckAgainst(result.ClusterCount);
            result = result with { Names = named };
            // The names belong to the job: keep them in its result document and cluster table too.
            ResultFiles.Write(resultFolder, result, source);
        }
        var root = imagesFolder ?? source.Path;
        if (source.Kind != "images" && imagesFolder is null)
        {
            console.Out.MarkupLine("[yellow]the result did not come from an image folder; give --images to show thumbnails.[/]");
        }
        var page = HtmlReportFiles.Write(outputFolder ?? resultFolder, result, source, FileImageSource.UnderFolder(root), cancellationToken);
        console.Out.MarkupLine($"wrote [blue]{Markup.Escape(page)}[/]");
        return CliExitCodes.Success;
    }
}
