using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;

namespace AnomalyClustering.Embedding.Pipeline;

/// <summary>Where a result came from, as recorded in result.json.</summary>
/// <param name="Kind"><c>images</c> or <c>vectors</c>.</param>
/// <param name="Path">The dataset folder or embeddings file.</param>
/// <param name="Layout">The detected image folder layout, or null for vectors.</param>
/// <param name="NormalFolder">Where the normal images came from, or null.</param>
/// <param name="Backbone">The backbone that embedded the images, or null for vectors.</param>
/// <param name="Excluded">Images left out by the protocol (the <c>combined</c> class), by class.</param>
/// <param name="Preprocessing">How images became the backbone's input (resize mode and sizes), or null for vectors.</param>
public sealed record ResultSource(
    string Kind,
    string Path,
    string? Layout,
    string? NormalFolder,
    string? Backbone,
    IReadOnlyDictionary<string, int> Excluded,
    PreprocessingOptions? Preprocessing = null);

/// <summary>
/// The result document (<c>result.json</c>) of a clustering job: written by the CLI and by job coordinators, read back by the
/// CLI's embedded and remote modes and served by the HTTP API.
/// </summary>
public static class ClusteringResultJson
{
    /// <summary>The whole result as JSON: source, options, clusters and their names, metrics, detection, merge tree, alpha maps, image embeddings and anomaly scores, errors, timings.</summary>
    public static void Write(Stream stream, ClusteringResult result, ResultSource source)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("tool", "anomaly-cluster");

        json.WriteStartObject("source");
        json.WriteString("kind", source.Kind);
        json.WriteString("path", source.Path);
        WriteOptionalString(json, "layout", source.Layout);
        WriteOptionalString(json, "normalFolder", source.NormalFolder);
        WriteOptionalString(json, "backbone", source.Backbone);
        if (source.Preprocessing is not null)
        {
            json.WritePropertyName("preprocessing");
            JsonSerializer.Serialize(json, source.Preprocessing, BackboneDescription.JsonOptions);
        }
        json.WriteStartObject("excluded");
        foreach (var (name, count) in source.Excluded)
        {
            json.WriteNumber(name, count);
        }
        json.WriteEndObject();
        json.WriteEndObject();

        WriteOptions(json, result.Options);

        json.WriteNumber("imageCount", result.Images.Count);
        json.WriteNumber("clusterCount", result.ClusterCount);
        json.WriteNumber("embeddingDimension", result.EmbeddingDimension);
        json.WriteStartArray("classes");
        foreach (var name in result.ClassNames)
        {
            json.WriteStringValue(name);
        }
        json.WriteEndArray();

        if (result.Scores is { } scores)
        {
            json.WriteStartObject("metrics");
            json.WriteNumber("nmi", scores.NormalizedMutualInformation);
            json.WriteNumber("ari", scores.AdjustedRandIndex);
            json.WriteNumber("f1", scores.HungarianF1);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("metrics");
        }
        if (result.AnomalyThreshold is { } threshold)
        {
            json.WriteNumber("anomalyThreshold", threshold);
        }
        if (result.Detection is { } detection)
        {
            json.WriteStartObject("detection");
            json.WriteNumber("imageAuroc", detection.ImageAuroc);
            json.WriteNumber("goodImages", detection.GoodImages);
            json.WriteNumber("defectiveImages", detection.DefectiveImages);
            if (detection.GoodAboveThreshold is { } falseAlarms && detection.DefectiveAboveThreshold is { } detected)
            {
                json.WriteNumber("goodAboveThreshold", falseAlarms);
                json.WriteNumber("defectiveAboveThreshold", detected);
            }
            json.WriteEndObject();
        }

        json.WriteStartArray("clusters");
        foreach (var cluster in ClusterSummary.Of(result))
        {
            json.WriteStartObject();
            json.WriteNumber("cluster", cluster.Cluster);
            json.WriteNumber("size", cluster.Size);
            if (result.Names.NameOf(cluster.Cluster) is { } name)
            {
                json.WriteString("name", name);
            }
            if (cluster.LabelCounts.Count > 0)
            {
                json.WriteStartObject("labels");
                foreach (var (label, count) in cluster.LabelCounts)
                {
                    json.WriteNumber(label, count);
                }
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WritePropertyName("clusterNames");
        result.Names.WriteTo(json);

        json.WriteStartObject("mergeTree");
        json.WriteNumber("pointCount", result.MergeTree.PointCount);
        json.WriteString("format", "scipy linkage matrix rows [left, right, height, size]; ids >= pointCount are earlier merges");
        json.WriteStartArray("linkage");
        foreach (var step in result.MergeTree.LinkageMatrix)
        {
            json.WriteStartArray();
            json.WriteNumberValue(step.Left);
            json.WriteNumberValue(step.Right);
            json.WriteNumberValue(step.Height);
            json.WriteNumberValue(step.Size);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();

        if (result.PatchGridHeight > 0)
        {
            json.WriteStartObject("alphaGrid");
            json.WriteNumber("height", result.PatchGridHeight);
            json.WriteNumber("width", result.PatchGridWidth);
            json.WriteEndObject();
        }

        json.WriteStartArray("images");
        foreach (var image in result.Images)
        {
            json.WriteStartObject();
            json.WriteString("id", image.Id);
            json.WriteNumber("cluster", image.Cluster);
            WriteOptionalString(json, "label", image.Label);
            if (image.AnomalyScore is { } anomalyScore)
            {
                json.WriteNumber("anomalyScore", anomalyScore);
            }
            if (image.PatchWeights is { } alpha)
            {
                // Alpha maps are read by people and plots: float precision is plenty and halves the file.
                json.WriteStartArray("alpha");
                foreach (var weight in alpha)
                {
                    json.WriteNumberValue((float)weight);
                }
                json.WriteEndArray();
            }
            if (image.Embedding is { } embedding)
            {
                // x_i, for reports (medoids, distances to the centroid); float is what was clustered.
                json.WriteStartArray("embedding");
                foreach (var value in embedding)
                {
                    json.WriteNumberValue(value);
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("errors");
        foreach (var error in result.Errors)
        {
            json.WriteStartObject();
            json.WriteString("id", error.Id);
            json.WriteString("path", error.Path);
            json.WriteString("reason", error.Reason);
            json.WriteString("message", error.Message);
            json.WriteBoolean("normalImage", error.IsNormalImage);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartObject("timingsSeconds");
        foreach (var timing in result.Timings)
        {
            json.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(timing.Stage.ToString()), Math.Round(timing.Elapsed.TotalSeconds, 3));
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteOptions(Utf8JsonWriter json, ClusteringJobOptions options)
    {
        json.WriteStartObject("options");
        json.WriteString("mode", ClusteringOptionNames.Of(options.Mode));
        json.WriteNumber("tau", options.Tau);
        if (options.ClusterCount is { } k)
        {
            json.WriteNumber("clusters", k);
        }
        else
        {
            json.WriteNull("clusters");
        }
        if (options.DistanceThreshold is { } threshold)
        {
            json.WriteNumber("distanceThreshold", threshold);
        }
        else
        {
            json.WriteNull("distanceThreshold");
        }
        json.WriteString("linkage", ClusteringOptionNames.Of(options.Linkage));
        json.WriteNumber("refs", options.ReferenceCount);
        json.WriteNumber("normalLimit", options.NormalImageLimit);
        json.WriteNumber("seed", options.Seed);
        json.WriteNumber("pretrainDimension", options.PretrainDimension);
        json.WriteNumber("targetDimension", options.TargetDimension);
        json.WriteBoolean("layerNorm", options.LayerNorm);
        json.WriteNumber("batchSize", options.BatchSize);
        json.WriteNumber("maxImageDimension", options.MaxImageDimension);
        json.WriteEndObject();
    }

    private static void WriteOptionalString(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>
    /// Reads a result written by <see cref="Write"/> back: the clusters, names, merge tree, alpha maps, embeddings, errors,
    /// options and timings exactly as written (floats and doubles round-trip), the metrics recomputed from the labels and
    /// clusters. Documents from before embeddings and names were recorded read with null embeddings and no names.
    /// </summary>
    /// <exception cref="InvalidDataException">The document is not a result written by this tool, or its names are invalid.</exception>
    public static (ClusteringResult Result, ResultSource Source) Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var document = JsonDocument.Parse(stream);
            return Read(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidClusteringInputException)
        {
            throw new InvalidDataException($"not a clustering result document: {e.Message}", e);
        }
    }

    private static (ClusteringResult, ResultSource) Read(JsonElement root)
    {
        var sourceElement = root.GetProperty("source");
        var excluded = sourceElement.GetProperty("excluded").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        PreprocessingOptions? preprocessing = sourceElement.TryGetProperty("preprocessing", out var pre)
            ? pre.Deserialize<PreprocessingOptions>(BackboneDescription.JsonOptions)
            : null;
        var source = new ResultSource(
            sourceElement.GetProperty("kind").GetString()!,
            sourceElement.GetProperty("path").GetString()!,
            OptionalString(sourceElement, "layout"),
            OptionalString(sourceElement, "normalFolder"),
            OptionalString(sourceElement, "backbone"),
            excluded,
            preprocessing);

        var o = root.GetProperty("options");
        var options = new ClusteringJobOptions
        {
            Mode = ClusteringOptionNames.ParseMode(o.GetProperty("mode").GetString()!),
            Tau = o.GetProperty("tau").GetDouble(),
            ClusterCount = o.GetProperty("clusters").ValueKind == JsonValueKind.Null ? null : o.GetProperty("clusters").GetInt32(),
            DistanceThreshold = o.GetProperty("distanceThreshold").ValueKind == JsonValueKind.Null ? null : o.GetProperty("distanceThreshold").GetDouble(),
            Linkage = ClusteringOptionNames.ParseLinkage(o.GetProperty("linkage").GetString()!),
            ReferenceCount = o.GetProperty("refs").GetInt32(),
            NormalImageLimit = o.GetProperty("normalLimit").GetInt32(),
            Seed = o.GetProperty("seed").GetInt32(),
            PretrainDimension = o.GetProperty("pretrainDimension").GetInt32(),
            TargetDimension = o.GetProperty("targetDimension").GetInt32(),
            LayerNorm = o.GetProperty("layerNorm").GetBoolean(),
            BatchSize = o.GetProperty("batchSize").GetInt32(),
            MaxImageDimension = o.GetProperty("maxImageDimension").GetInt32(),
        };

        var images = root.GetProperty("images").EnumerateArray().Select(image => new ClusteredImage(
            image.GetProperty("id").GetString()!,
            image.GetProperty("cluster").GetInt32(),
            OptionalString(image, "label"),
            image.TryGetProperty("alpha", out var alpha) ? alpha.EnumerateArray().Select(w => w.GetSingle()).ToArray() : null,
            image.TryGetProperty("embedding", out var embedding) ? embedding.EnumerateArray().Select(v => v.GetSingle()).ToArray() : null,
            image.TryGetProperty("anomalyScore", out var anomalyScore) ? anomalyScore.GetDouble() : null)).ToArray();

        var tree = root.GetProperty("mergeTree");
        var rows = tree.GetProperty("linkage").EnumerateArray().ToArray();
        var linkage = new double[rows.Length, 4];
        for (var r = 0; r < rows.Length; r++)
        {
            var column = 0;
            foreach (var value in rows[r].EnumerateArray())
            {
                linkage[r, column++] = value.GetDouble();
            }
        }

        var errors = root.GetProperty("errors").EnumerateArray().Select(error => new ImageError(
            error.GetProperty("id").GetString()!,
            error.GetProperty("path").GetString()!,
            error.GetProperty("reason").GetString()!,
            error.GetProperty("message").GetString()!,
            error.GetProperty("normalImage").GetBoolean())).ToArray();

        var timings = root.GetProperty("timingsSeconds").EnumerateObject()
            .Select(t => new StageTiming(Enum.Parse<PipelineStage>(t.Name, ignoreCase: true), TimeSpan.FromSeconds(t.Value.GetDouble())))
            .ToArray();

        var hasGrid = root.TryGetProperty("alphaGrid", out var grid);
        double? anomalyThreshold = root.TryGetProperty("anomalyThreshold", out var thresholdElement) ? thresholdElement.GetDouble() : null;
        var labelled = images.Length > 0 && images.All(image => image.Label is not null);
        var result = new ClusteringResult
        {
            Options = options,
            Images = images,
            Errors = errors,
            MergeTree = MergeTree.FromLinkageArray(linkage),
            PatchGridHeight = hasGrid ? grid.GetProperty("height").GetInt32() : 0,
            PatchGridWidth = hasGrid ? grid.GetProperty("width").GetInt32() : 0,
            EmbeddingDimension = root.GetProperty("embeddingDimension").GetInt32(),
            Scores = labelled ? ClusteringMetrics.Evaluate(images.Select(i => i.Label!).ToArray(), images.Select(i => i.Cluster).ToArray()) : null,
            AnomalyThreshold = anomalyThreshold,
            Detection = ImageDetection.Evaluate(images, anomalyThreshold),
            ClassNames = root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray(),
            Timings = timings,
            // Documents written before names existed have none.
            Names = root.TryGetProperty("clusterNames", out var names) ? ClusterNames.FromJson(names) : ClusterNames.Empty,
        };
        return (result, source);
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
