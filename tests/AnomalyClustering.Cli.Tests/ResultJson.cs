using System.Text.Json;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Tests;

/// <summary>Reads back what a run wrote: clusters.csv rows, the result.json summary and the whole result of its folder.</summary>
internal sealed class ResultJson : IDisposable
{
    private readonly Lazy<ClusteringResult> _result;

    private ResultJson(JsonDocument document, string folder)
    {
        Document = document;
        _result = new Lazy<ClusteringResult>(() => ResultFolder.Read(folder).Result);
    }

    public JsonDocument Document { get; }

    /// <summary>The summary (result.json).</summary>
    public JsonElement Root => Document.RootElement;

    /// <summary>The whole result, per-image rows and arrays included, read through <see cref="ResultFolder"/>.</summary>
    public ClusteringResult Result => _result.Value;

    public static ResultJson Load(string folder) => new(JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "result.json"))), folder);

    public double Metric(string name) => Root.GetProperty("metrics").GetProperty(name).GetDouble();

    /// <summary>The errors of errors.parquet as JSON objects (id, path, reason, message, normalImage).</summary>
    public IReadOnlyList<JsonElement> Errors => JsonSerializer.SerializeToElement(Result.Errors.Select(error => new Dictionary<string, object>
    {
        ["id"] = error.Id,
        ["path"] = error.Path,
        ["reason"] = error.Reason,
        ["message"] = error.Message,
        ["normalImage"] = error.IsNormalImage,
    })).EnumerateArray().ToList();

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
