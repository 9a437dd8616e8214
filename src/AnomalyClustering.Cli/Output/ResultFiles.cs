using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Pipeline;

namespace AnomalyClustering.Cli.Output;

/// <summary>Where a result came from, as recorded in result.json.</summary>
/// <param name="Kind"><c>images</c> or <c>vectors</c>.</param>
/// <param name="Path">The dataset folder or embeddings file.</param>
/// <param name="Layout">The detected image folder layout, or null for vectors.</param>
/// <param name="NormalFolder">Where the normal images came from, or null.</param>
/// <param name="Backbone">The backbone that embedded the images, or null for vectors.</param>
/// <param name="Excluded">Images left out by the protocol (the <c>combined</c> class), by class.</param>
/// <param name="Preprocessing">How images became the backbone's input (resize mode and sizes), or null for vectors.</param>
internal sealed record ResultSource(
    string Kind,
    string Path,
    string? Layout,
    string? NormalFolder,
    string? Backbone,
    IReadOnlyDictionary<string, int> Excluded,
    PreprocessingOptions? Preprocessing = null);

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
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"cannot create the output folder '{folder}': {e.Message}", e);
        }
        var clustersPath = Path.Combine(folder, ClustersFileName);
        var resultPath = Path.Combine(folder, ResultFileName);
        WriteClustersCsv(clustersPath, result);
        using (var stream = File.Create(resultPath))
        {
            WriteResultJson(stream, result, source);
        }
        return (clustersPath, resultPath);
    }

    /// <summary>One row per clustered image: image id, cluster (0-based), and the label when the dataset has labels.</summary>
    public static void WriteClustersCsv(string path, ClusteringResult result)
    {
        var hasLabels = result.Scores is not null;
        using var writer = new StreamWriter(path);
        writer.Write(hasLabels ? "image,cluster,label\n" : "image,cluster\n");
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
            writer.Write('\n');
        }
    }

    /// <summary>The whole result as JSON: source, options, clusters, metrics, merge tree, alpha maps, errors, timings.</summary>
    public static void WriteResultJson(Stream stream, ClusteringResult result, ResultSource source)
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

        json.WriteStartArray("clusters");
        foreach (var cluster in ClusterSummary.Of(result))
        {
            json.WriteStartObject();
            json.WriteNumber("cluster", cluster.Cluster);
            json.WriteNumber("size", cluster.Size);
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
        json.WriteString("mode", OptionNames.Of(options.Mode));
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
        json.WriteString("linkage", OptionNames.Of(options.Linkage));
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
}
