using AnomalyClustering.Jobs;
using AnomalyClustering.Reports;
using AnomalyClustering.Reports.Images;

namespace AnomalyClustering.Cli.Output;

/// <summary>Writes a job's HTML report (report.html and its thumbnails/ folder) into the output folder, and reads names.json files.</summary>
internal static class HtmlReportFiles
{
    /// <summary>Writes the report of <paramref name="result"/>, reading images through <paramref name="images"/>; returns the page's path.</summary>
    /// <exception cref="CliInputException">The folder cannot be written.</exception>
    public static string Write(string folder, ClusteringResult result, ResultSource source, IReportImageSource images, CancellationToken cancellationToken)
    {
        try
        {
            return ClusterReport.WriteToFolderAsync(result, source, images, folder, new ReportOptions(), cancellationToken).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"cannot write the report into '{folder}': {e.Message}", e);
        }
    }

    /// <summary>The report of a job the CLI ran: images read from the dataset's own paths.</summary>
    public static string Write(string folder, ClusteringResult result, ResultSource source, ClusteringDataset dataset, CancellationToken cancellationToken) =>
        Write(folder, result, source, FileImageSource.FromPaths(dataset.Images.ToDictionary(image => image.Id, image => image.Path, StringComparer.Ordinal)), cancellationToken);

    /// <summary>Reads a names.json file (cluster index to name).</summary>
    /// <exception cref="CliInputException">The file is missing or unreadable.</exception>
    /// <exception cref="Core.Validation.InvalidClusteringInputException">It is not a valid names object.</exception>
    public static ClusterNames ReadNames(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliInputException($"names file '{path}' does not exist; write a JSON object like {{\"0\": \"crack\"}} (the report's 'Download names.json' makes one).");
        }
        return ClusterNames.Parse(File.ReadAllText(path));
    }
}
