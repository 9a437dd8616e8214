using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Output;

/// <summary>
/// Writes a job's outputs: the files of <see cref="ResultFolder"/> (<c>result.json</c> summary, <c>images.parquet</c>,
/// <c>errors.parquet</c>, <c>linkage.npy</c>, <c>embeddings.npy</c>, <c>alpha.npy</c>) and the <c>clusters.csv</c> export.
/// </summary>
internal static class ResultFiles
{
    /// <summary>File name of the per-image cluster table.</summary>
    public const string ClustersFileName = "clusters.csv";

    /// <summary>File name of the result's summary.</summary>
    public const string ResultFileName = ResultFolder.SummaryFileName;

    /// <summary>Writes the files into <paramref name="folder"/> (created when missing) and returns the paths of the table and the summary.</summary>
    public static (string ClustersCsv, string ResultJson) Write(string folder, ClusteringResult result, ResultSource source)
    {
        CreateOutputFolder(folder);
        var clustersPath = Path.Combine(folder, ClustersFileName);
        WriteClustersCsv(clustersPath, result);
        var resultPath = ResultFolder.Write(folder, result, source);
        return (clustersPath, resultPath);
    }

    /// <summary>
    /// Throws unless results can be written into <paramref name="folder"/>: neither it nor an ancestor is a file, and its
    /// nearest existing folder takes a file (probed with a hidden file removed at once). Creates nothing, so that a run
    /// refused later leaves no folder behind. Called before any embedding, so that a wrong <c>--out</c> costs one line
    /// instead of a whole job's work.
    /// </summary>
    /// <exception cref="CliInputException">The folder cannot take the results; the message names it and why.</exception>
    public static void CheckOutputFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        var existing = full;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                throw new CliInputException(existing == full
                    ? $"--out '{folder}' is a file; give a folder for {ClustersFileName} and {ResultFileName}."
                    : $"--out '{folder}' cannot be created: '{existing}' is a file.");
            }
            // The root always exists, so the walk ends there at the latest.
            existing = Path.GetDirectoryName(existing)!;
        }
        var probe = Path.Combine(existing, $".anomaly-cluster-write-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"cannot write the output folder '{folder}' (in '{existing}'): {e.Message}", e);
        }
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
    /// any cluster is named, the image anomaly score when the images have one, and the image's leaf of the merge tree (its
    /// micro-cluster) when the tree's leaves are micro-clusters (two-stage Ward), so that a tree cut read from
    /// <c>linkage.npy</c> can be mapped to images without a Parquet reader. New columns go at the end, so readers of the
    /// older columns keep working.
    /// </summary>
    public static void WriteClustersCsv(string path, ClusteringResult result)
    {
        var hasLabels = result.Scores is not null;
        var hasNames = result.Names.Count > 0;
        var hasScores = result.Images.Count > 0 && result.Images.All(image => image.AnomalyScore is not null);
        var leafOfImage = result.LeafOfImage;
        using var writer = new StreamWriter(path);
        writer.Write(hasLabels ? "image,cluster,label" : "image,cluster");
        writer.Write(hasNames ? ",cluster_name" : string.Empty);
        writer.Write(hasScores ? ",anomaly_score" : string.Empty);
        writer.Write(leafOfImage is not null ? ",leaf\n" : "\n");
        for (var i = 0; i < result.Images.Count; i++)
        {
            var image = result.Images[i];
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
            if (leafOfImage is not null)
            {
                writer.Write(',');
                writer.Write(leafOfImage[i].ToString(CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }
}
