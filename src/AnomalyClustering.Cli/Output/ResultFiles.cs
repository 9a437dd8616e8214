using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Pipeline;

namespace AnomalyClustering.Cli.Output;

/// <summary>Writes a job's outputs: <c>clusters.csv</c> (image, cluster, label) and <c>result.json</c> (everything).</summary>
internal static class ResultFiles
{
    /// <summary>File name of the per-image cluster table.</summary>
    public const string ClustersFileName = "clusters.csv";

    /// <summary>File name of the full result.</summary>
    public const string ResultFileName = "result.json";

    /// <summary>Writes both files into <paramref name="folder"/> (created when missing) and returns their paths.</summary>
    public static (string ClustersCsv, string ResultJson) Write(string folder, ClusteringResult result, ResultSource source)
    {
        CreateOutputFolder(folder);
        var clustersPath = Path.Combine(folder, ClustersFileName);
        var resultPath = Path.Combine(folder, ResultFileName);
        WriteClustersCsv(clustersPath, result);
        using (var stream = File.Create(resultPath))
        {
            ClusteringResultJson.Write(stream, result, source);
        }
        return (clustersPath, resultPath);
    }

    /// <summary>Creates <paramref name="folder"/> when missing.</summary>
    /// <exception cref="CliInputException">It cannot be created; the message names it.</exception>
    public static void CreateOutputFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"cannot create the output folder '{folder}': {e.Message}", e);
        }
    }

    /// <summary>
    /// One row per clustered image: image id, cluster (0-based), the label when the dataset has labels, the cluster's name when
    /// any cluster is named, the image anomaly score when the images have one (a column added at the end, so readers of the
    /// older columns keep working).
    /// </summary>
    public static void WriteClustersCsv(string path, ClusteringResult result)
    {
        var hasLabels = result.Scores is not null;
        var hasNames = result.Names.Count > 0;
        var hasScores = result.Images.Count > 0 && result.Images.All(image => image.AnomalyScore is not null);
        using var writer = new StreamWriter(path);
        writer.Write(hasLabels ? "image,cluster,label" : "image,cluster");
        writer.Write(hasNames ? ",cluster_name" : string.Empty);
        writer.Write(hasScores ? ",anomaly_score\n" : "\n");
        foreach (var image in result.Images)
        {
            writer.Write(CsvText.Escape(image.Id));
            writer.Write(',');
            writer.Write(image.Cluster.ToString(CultureInfo.InvariantCulture));
            if (hasLabels)
            {
                writer.Write(',');
                writer.Write(CsvText.Escape(image.Label ?? string.Empty));
            }
            if (hasNames)
            {
                writer.Write(',');
                writer.Write(CsvText.Escape(result.Names.NameOf(image.Cluster) ?? string.Empty));
            }
            if (hasScores)
            {
                writer.Write(',');
                writer.Write(image.AnomalyScore!.Value.ToString("R", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }
}
