using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnomalyClustering.Jobs;

/// <summary>One cluster as a result summary describes it.</summary>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Size">Images in the cluster.</param>
/// <param name="Name">The name a person gave it, or null.</param>
/// <param name="CentreImage">The id of the member nearest to the cluster's centroid (its medoid by x_i); null without embeddings.</param>
/// <param name="Labels">Ground-truth label counts of its members (empty without labels).</param>
public sealed record SummaryCluster(int Cluster, int Size, string? Name, string? CentreImage, IReadOnlyDictionary<string, int> Labels);

/// <summary>
/// What a result summary (<see cref="ResultFolder.SummaryFileName"/>, format <see cref="ResultFolder.SummaryFormat"/>) says
/// without its per-image files: counts, clusters, metrics, names, error counts. O(K C) whatever N is, so that the API
/// answers a job's overview and a recovered job's status from it without reading anything that grows with N.
/// </summary>
public sealed record ResultSummary
{
    /// <summary>Clustered images.</summary>
    public required int ImageCount { get; init; }

    /// <summary>Clusters K.</summary>
    public required int ClusterCount { get; init; }

    /// <summary>The dataset's classes (label names), empty without labels.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>NMI, ARI and F1 against the labels; null without labels.</summary>
    public ClusteringScoresSummary? Metrics { get; init; }

    /// <summary>The label-free detection threshold, when the job had normal images to set it.</summary>
    public double? AnomalyThreshold { get; init; }

    /// <summary>Every cluster, by index.</summary>
    public required IReadOnlyList<SummaryCluster> Clusters { get; init; }

    /// <summary>The cluster names.</summary>
    public required ClusterNames Names { get; init; }

    /// <summary>Unusable images by reason.</summary>
    public required IReadOnlyDictionary<string, int> ErrorCounts { get; init; }

    /// <summary>Unusable images in all.</summary>
    public int ErrorCount => ErrorCounts.Values.Sum();

    /// <summary>Rows of the alpha grid; 0 without alpha maps.</summary>
    public int PatchGridHeight { get; init; }

    /// <summary>Columns of the alpha grid; 0 without alpha maps.</summary>
    public int PatchGridWidth { get; init; }

    /// <summary>What the job did differently from what was asked (<see cref="ResultWarnings"/>); empty in summaries written before warnings were recorded.</summary>
    public IReadOnlyList<ResultWarning> Warnings { get; init; } = [];

    /// <summary>Where the images came from (the source's path).</summary>
    public required string SourcePath { get; init; }

    /// <summary>Where the result summarised in <paramref name="stream"/> came from (dataset, backbone, preprocessing).</summary>
    /// <exception cref="InvalidDataException">The document is not a result summary written by this tool.</exception>
    public static ResultSource ReadSource(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ClusteringResultJson.ReadSummary(stream).Source;
    }

    /// <summary>Reads a summary.</summary>
    /// <exception cref="InvalidDataException">The document is not a result summary written by this tool.</exception>
    public static ResultSummary Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var document = JsonDocument.Parse(stream);
            var root = document.RootElement;
            if (!ClusteringResultJson.IsSummary(root))
            {
                throw new InvalidDataException($"not a result summary (no \"format\": \"{ResultFolder.SummaryFormat}\").");
            }
            var names = root.TryGetProperty("clusterNames", out var named) ? ClusterNames.FromJson(named) : ClusterNames.Empty;
            var clusters = root.GetProperty("clusters").EnumerateArray().Select(cluster => new SummaryCluster(
                cluster.GetProperty("cluster").GetInt32(),
                cluster.GetProperty("size").GetInt32(),
                names.NameOf(cluster.GetProperty("cluster").GetInt32()),
                cluster.TryGetProperty("centreImage", out var centre) ? centre.GetString() : null,
                cluster.TryGetProperty("labels", out var labels)
                    ? labels.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal)
                    : new Dictionary<string, int>(StringComparer.Ordinal))).OrderBy(cluster => cluster.Cluster).ToArray();
            var metrics = root.GetProperty("metrics");
            var grid = root.TryGetProperty("alphaGrid", out var alphaGrid) ? alphaGrid : (JsonElement?)null;
            return new ResultSummary
            {
                ImageCount = root.GetProperty("imageCount").GetInt32(),
                ClusterCount = root.GetProperty("clusterCount").GetInt32(),
                Classes = root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray(),
                Metrics = metrics.ValueKind == JsonValueKind.Null
                    ? null
                    : new ClusteringScoresSummary(metrics.GetProperty("nmi").GetDouble(), metrics.GetProperty("ari").GetDouble(), metrics.GetProperty("f1").GetDouble()),
                AnomalyThreshold = root.TryGetProperty("anomalyThreshold", out var threshold) ? threshold.GetDouble() : null,
                Clusters = clusters,
                Names = names,
                ErrorCounts = root.GetProperty("errorCounts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal),
                PatchGridHeight = grid?.GetProperty("height").GetInt32() ?? 0,
                PatchGridWidth = grid?.GetProperty("width").GetInt32() ?? 0,
                SourcePath = root.GetProperty("source").GetProperty("path").GetString()!,
                Warnings = ClusteringResultJson.ReadWarnings(root),
            };
        }
        catch (Exception e) when (e is not InvalidDataException && ClusteringResultJson.IsMalformed(e))
        {
            throw new InvalidDataException($"not a clustering result summary: {e.Message}", e);
        }
    }

    /// <summary>
    /// Copies the summary in <paramref name="summary"/> to <paramref name="output"/> with <paramref name="names"/> as its
    /// cluster names (the clusters' <c>name</c> fields and <c>clusterNames</c>); everything else unchanged.
    /// </summary>
    /// <exception cref="InvalidDataException">The document is not a result summary.</exception>
    public static void WriteRenamed(Stream summary, Stream output, ClusterNames names)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(names);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(summary)?.AsObject() ?? throw new InvalidDataException("an empty result summary.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not a clustering result summary: {e.Message}", e);
        }
        foreach (var cluster in root["clusters"]?.AsArray() ?? throw new InvalidDataException("a result summary without clusters."))
        {
            var entry = cluster!.AsObject();
            entry.Remove("name");
            if (names.NameOf(entry["cluster"]!.GetValue<int>()) is { } name)
            {
                // After "size", where the writer puts it.
                var position = entry.IndexOf("size") + 1;
                entry.Insert(position, "name", name);
            }
        }
        root["clusterNames"] = JsonNode.Parse(names.ToJson());
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        root.WriteTo(json);
    }
}

/// <summary>NMI, ARI and Hungarian F1 as a summary records them.</summary>
/// <param name="Nmi">Normalized mutual information.</param>
/// <param name="Ari">Adjusted Rand index.</param>
/// <param name="F1">Hungarian-matched F1.</param>
public sealed record ClusteringScoresSummary(double Nmi, double Ari, double F1);
