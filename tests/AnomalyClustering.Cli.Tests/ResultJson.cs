using System.Text.Json;

namespace AnomalyClustering.Cli.Tests;

/// <summary>Reads back what a run wrote: clusters.csv rows and result.json.</summary>
internal sealed class ResultJson : IDisposable
{
    private ResultJson(JsonDocument document) => Document = document;

    public JsonDocument Document { get; }

    public JsonElement Root => Document.RootElement;

    public static ResultJson Load(string folder) => new(JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "result.json"))));

    public double Metric(string name) => Root.GetProperty("metrics").GetProperty(name).GetDouble();

    public IReadOnlyList<JsonElement> Errors => Root.GetProperty("errors").EnumerateArray().ToList();

    /// <summary>The rows of clusters.csv (header skipped): image, cluster, label (null without labels).</summary>
    public static IReadOnlyList<(string Image, int Cluster, string? Label)> ClustersCsv(string folder)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, "clusters.csv"));
        // The anomaly score is the last column when the mode has scores (not in the average mode).
        var header = lines[0].EndsWith(",anomaly_score", StringComparison.Ordinal) ? lines[0][..^",anomaly_score".Length] : lines[0];
        var hasLabels = header == "image,cluster,label";
        Assert.True(hasLabels || header == "image,cluster", "unexpected header " + lines[0]);
        return lines.Skip(1).Select(line =>
        {
            var fields = line.Split(',');
            return (fields[0], int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), hasLabels ? fields[2] : null);
        }).ToList();
    }

    public void Dispose() => Document.Dispose();
}
