using AnomalyClustering.Cli;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cluster.Tests;

/// <summary>One image's row of clusters.csv.</summary>
internal sealed record ClusterRow(string Image, int Cluster, string? Label);

/// <summary>The single-process references a cluster job must reproduce: the CLI's <c>cluster</c> command and <see cref="ClusteringPipeline"/>.</summary>
internal static class ReferenceRuns
{
    /// <summary>
    /// Runs <c>anomaly-cluster cluster &lt;folder&gt;</c> in this process with default options (the built-in backbone, whole
    /// images, seed 0, K = the class count) and returns its clusters.csv rows and the NMI of its result.json.
    /// </summary>
    public static async Task<(IReadOnlyList<ClusterRow> Rows, double Nmi)> CliAsync(string datasetFolder)
    {
        var output = Directory.CreateTempSubdirectory("cluster-tests-cli-").FullName;
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exitCode = await CliApplication.RunAsync(["cluster", datasetFolder, "-o", output], CliConsole.ForWriters(stdout, stderr));
            Assert.True(exitCode == 0, $"the CLI's cluster command failed ({exitCode}): {stderr}\n{stdout}");
            var lines = await File.ReadAllLinesAsync(Path.Combine(output, "clusters.csv"));
            Assert.Equal("image,cluster,label,anomaly_score", lines[0]);
            var rows = lines.Skip(1).Select(line => line.Split(','))
                .Select(fields => new ClusterRow(fields[0], int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), fields[2]))
                .ToList();
            var nmi = ResultFolder.Read(output).Result.Scores!.NormalizedMutualInformation;
            return (rows, nmi);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Runs <see cref="ClusteringPipeline"/> directly on the dataset with default options and <paramref name="backbone"/>.</summary>
    public static ClusteringResult Pipeline(ClusteringDataset dataset, BackboneDescription backbone)
    {
        using var onnx = new OnnxBackbone(backbone);
        return new ClusteringPipeline(onnx, new ClusteringJobOptions()).Run(dataset);
    }

    /// <summary>The rows of a result, as clusters.csv would list them.</summary>
    public static IReadOnlyList<ClusterRow> Rows(ClusteringResult result) =>
        result.Images.Select(image => new ClusterRow(image.Id, image.Cluster, image.Label)).ToList();
}
