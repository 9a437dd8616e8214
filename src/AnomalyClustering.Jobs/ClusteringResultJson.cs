using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

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
    // The spelling of backbone descriptions (camelCase, nulls left out), so that a result's preprocessing reads like its backbone's.
    private static readonly JsonSerializerOptions PreprocessingJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The whole result as JSON: source, options, clusters and their names, metrics, detection, merge tree, alpha maps, image embeddings and anomaly scores, errors, timings.</summary>
    /// <remarks>O(N (D + M)) bytes: for job stores and small results; <see cref="ResultFolder"/> writes what scales.</remarks>
    public static void Write(Stream stream, ClusteringResult result, ResultSource source)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        WriteHead(json, result, source, centreImages: null);
        WriteFullBody(json, result);
        json.WriteEndObject();
    }

    /// <summary>
    /// The bounded summary of <see cref="ResultFolder"/>' <c>result.json</c>: source, options, clusters (size, the image
    /// nearest the centre, label counts, name), metrics, the top <see cref="SummaryMergeCount"/> merges of the tree, error
    /// counts by reason, the alpha grid, the timings and the names of the files that hold the per-image data. Its size
    /// grows with K and the number of classes, not with N.
    /// </summary>
    public static void WriteSummary(Stream stream, ClusteringResult result, ResultSource source, IReadOnlyList<string?> centreImages)
    {
        ArgumentNullException.ThrowIfNull(centreImages);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        WriteHead(json, result, source, centreImages);
        json.WriteString("format", ResultFolder.SummaryFormat);

        var steps = result.MergeTree.LinkageMatrix;
        var top = Math.Min(SummaryMergeCount, steps.Count);
        json.WriteStartObject("mergeTreeTop");
        json.WriteNumber("pointCount", result.MergeTree.PointCount);
        json.WriteNumber("firstStep", steps.Count - top);
        // Two-stage and detect-then-cluster trees are over groups of images; images.parquet then names each image's leaf.
        json.WriteString("leaves", LeavesName(result));
        json.WriteString("format", "the last rows of the scipy linkage matrix [left, right, height, size]; the whole matrix is in " + ResultFolder.LinkageFileName);
        json.WriteStartArray("linkage");
        for (var r = steps.Count - top; r < steps.Count; r++)
        {
            WriteStep(json, steps[r]);
        }
        json.WriteEndArray();
        json.WriteEndObject();

        WriteAlphaGrid(json, result);
        json.WriteStartObject("errorCounts");
        foreach (var group in result.Errors.GroupBy(error => error.Reason, StringComparer.Ordinal).OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(group.Key, group.Count());
        }
        json.WriteEndObject();
        WriteTimings(json, result);
        json.WriteEndObject();
    }

    /// <summary>How many merges (the top of the tree, where the clusters join) a summary keeps.</summary>
    public const int SummaryMergeCount = 64;

    private static void WriteHead(Utf8JsonWriter json, ClusteringResult result, ResultSource source, IReadOnlyList<string?>? centreImages)
    {
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
            JsonSerializer.Serialize(json, source.Preprocessing, PreprocessingJson);
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
        WriteWarnings(json, result.Warnings);

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
        if (result.DetectedGood is { } detectedGood)
        {
            json.WriteStartObject("detectedGood");
            json.WriteNumber("images", detectedGood.Images);
            json.WriteNumber("cluster", detectedGood.Cluster);
            json.WriteEndObject();
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
            if (result.PixelDetection is { } pixels)
            {
                WritePixelDetection(json, pixels);
            }
            json.WriteEndObject();
        }

        WriteClusterCountChoice(json, result.ClusterCountChoice);

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
            if (centreImages?[cluster.Cluster] is { } centre)
            {
                json.WriteString("centreImage", centre);
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

        json.WriteStartObject("algorithm");
        json.WriteString("name", ClusteringOptionNames.Of(result.Algorithm));
        WriteOptionalString(json, "reason", result.AlgorithmReason);
        json.WriteEndObject();
    }

    /// <summary>The result's warnings, each its code and message; an empty list when there are none.</summary>
    private static void WriteWarnings(Utf8JsonWriter json, IReadOnlyList<ResultWarning> warnings)
    {
        json.WriteStartArray("warnings");
        foreach (var warning in warnings)
        {
            json.WriteStartObject();
            json.WriteString("code", warning.Code);
            json.WriteString("message", warning.Message);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>The warnings of a result document or summary; none in documents written before warnings were recorded.</summary>
    internal static IReadOnlyList<ResultWarning> ReadWarnings(JsonElement root) =>
        root.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array
            ? warnings.EnumerateArray().Select(warning => new ResultWarning(warning.GetProperty("code").GetString()!, warning.GetProperty("message").GetString()!)).ToArray()
            : [];

    /// <summary>
    /// What the tree's leaves are: <c>images</c>; <c>micro-clusters</c> (two-stage Ward); or, detect-then-cluster,
    /// <c>good-group-and-images</c> / <c>good-group-and-micro-clusters</c> (leaf 0 is the good group).
    /// </summary>
    private static string LeavesName(ClusteringResult result) => result.LeafOfImage is null ? "images"
        : result.DetectedGood is null ? "micro-clusters"
        : result.Algorithm is ClusteringAlgorithm.TwoStageWard or ClusteringAlgorithm.RefinedTwoStageWard ? "good-group-and-micro-clusters"
        : "good-group-and-images";

    private static void WriteFullBody(Utf8JsonWriter json, ClusteringResult result)
    {
        json.WriteStartObject("mergeTree");
        json.WriteNumber("pointCount", result.MergeTree.PointCount);
        // Two-stage and detect-then-cluster trees are over groups of images; each image row then names its leaf.
        json.WriteString("leaves", LeavesName(result));
        json.WriteString("format", "scipy linkage matrix rows [left, right, height, size]; ids >= pointCount are earlier merges");
        json.WriteStartArray("linkage");
        foreach (var step in result.MergeTree.LinkageMatrix)
        {
            WriteStep(json, step);
        }
        json.WriteEndArray();
        json.WriteEndObject();

        WriteAlphaGrid(json, result);

        var leafOfImage = result.LeafOfImage;
        json.WriteStartArray("images");
        for (var imageIndex = 0; imageIndex < result.Images.Count; imageIndex++)
        {
            var image = result.Images[imageIndex];
            json.WriteStartObject();
            json.WriteString("id", image.Id);
            json.WriteNumber("cluster", image.Cluster);
            WriteOptionalString(json, "label", image.Label);
            if (leafOfImage is not null)
            {
                json.WriteNumber("leaf", leafOfImage[imageIndex]);
            }
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
        WriteTimings(json, result);
    }

    private static void WriteStep(Utf8JsonWriter json, MergeStep step)
    {
        json.WriteStartArray();
        json.WriteNumberValue(step.Left);
        json.WriteNumberValue(step.Right);
        json.WriteNumberValue(step.Height);
        json.WriteNumberValue(step.Size);
        json.WriteEndArray();
    }

    private static void WriteAlphaGrid(Utf8JsonWriter json, ClusteringResult result)
    {
        if (result.PatchGridHeight > 0)
        {
            json.WriteStartObject("alphaGrid");
            json.WriteNumber("height", result.PatchGridHeight);
            json.WriteNumber("width", result.PatchGridWidth);
            json.WriteEndObject();
        }
    }

    private static void WriteTimings(Utf8JsonWriter json, ClusteringResult result)
    {
        json.WriteStartObject("timingsSeconds");
        foreach (var timing in result.Timings)
        {
            json.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(timing.Stage.ToString()), Math.Round(timing.Elapsed.TotalSeconds, 3));
        }
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
        json.WriteBoolean("automaticClusters", options.AutomaticClusterCount);
        json.WriteString("clusterCountCriterion", ClusteringOptionNames.Of(options.ClusterCountCriterion));
        json.WriteNumber("minClusters", options.MinimumClusterCount);
        json.WriteNumber("maxClusters", options.MaximumClusterCount);
        json.WriteString("linkage", ClusteringOptionNames.Of(options.Linkage));
        json.WriteNumber("refs", options.ReferenceCount);
        json.WriteNumber("normalLimit", options.NormalImageLimit);
        json.WriteNumber("coreset", options.CoresetFraction);
        json.WriteBoolean("detectThenCluster", options.DetectThenCluster);
        json.WriteNumber("seed", options.Seed);
        json.WriteNumber("pretrainDimension", options.PretrainDimension);
        json.WriteNumber("targetDimension", options.TargetDimension);
        json.WriteNumber("patchSize", options.PatchSize);
        json.WriteBoolean("layerNorm", options.LayerNorm);
        json.WriteNumber("batchSize", options.BatchSize);
        json.WriteNumber("maxImageDimension", options.MaxImageDimension);
        json.WriteEndObject();
    }

    /// <summary>How K was found: the chosen K, the criterion, and its value at every K tried (null where a cut could not be scored).</summary>
    private static void WriteClusterCountChoice(Utf8JsonWriter json, ClusterCountChoice? choice)
    {
        if (choice is null)
        {
            json.WriteNull("clusterCountChoice");
            return;
        }
        json.WriteStartObject("clusterCountChoice");
        json.WriteNumber("clusters", choice.ClusterCount);
        json.WriteString("criterion", ClusteringOptionNames.Of(choice.Criterion));
        json.WriteString("rule", "the K with the largest criterion value (the smallest such K on ties)");
        json.WriteStartArray("curve");
        foreach (var score in choice.Curve)
        {
            json.WriteStartObject();
            json.WriteNumber("k", score.ClusterCount);
            if (double.IsNaN(score.Value))
            {
                json.WriteNull("value");
            }
            else
            {
                json.WriteNumber("value", score.Value);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static ClusterCountChoice? ReadClusterCountChoice(JsonElement root)
    {
        if (!root.TryGetProperty("clusterCountChoice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        var curve = choice.GetProperty("curve").EnumerateArray()
            .Select(score => new ClusterCountScore(
                score.GetProperty("k").GetInt32(),
                score.GetProperty("value").ValueKind == JsonValueKind.Null ? double.NaN : score.GetProperty("value").GetDouble()))
            .ToArray();
        return new ClusterCountChoice(
            choice.GetProperty("clusters").GetInt32(), ClusteringOptionNames.ParseClusterCountCriterion(choice.GetProperty("criterion").GetString()!), curve);
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
        catch (Exception e) when (IsMalformed(e))
        {
            throw new InvalidDataException($"not a clustering result document: {MalformedReason(e)}", e);
        }
    }

    /// <summary>
    /// Reads a summary written by <see cref="WriteSummary"/>: everything but the per-image rows, the errors and the merge
    /// tree, which <see cref="ResultFolder.Read"/> adds from their own files.
    /// </summary>
    /// <exception cref="InvalidDataException">The document is not a result summary written by this tool.</exception>
    internal static (ResultHead Head, ResultSource Source) ReadSummary(Stream stream)
    {
        try
        {
            using var document = JsonDocument.Parse(stream);
            var root = document.RootElement;
            if (!IsSummary(root))
            {
                throw new InvalidDataException($"not a result summary (no \"format\": \"{ResultFolder.SummaryFormat}\").");
            }
            return ReadHead(root);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new InvalidDataException($"not a clustering result summary: {MalformedReason(e)}", e);
        }
    }

    /// <summary>
    /// The exceptions that reading a result document throws when it is not what this tool writes: bad JSON, a missing or
    /// mistyped field, an unknown name (a stage or an option of another version), a linkage row of the wrong length.
    /// </summary>
    // A missing member surfaces as the dictionary's own words ("The given key was not present"), which say nothing to a user.
    private static string MalformedReason(Exception e) =>
        e is KeyNotFoundException ? "a member every result has is missing (a JSON document of another kind?)" : e.Message;

    internal static bool IsMalformed(Exception e) =>
        e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidClusteringInputException
            or ArgumentException or IndexOutOfRangeException;

    /// <summary>True when the document in <paramref name="stream"/> is a summary; false for a full document or one that is not JSON.</summary>
    internal static bool IsSummary(Stream stream)
    {
        try
        {
            using var document = JsonDocument.Parse(stream);
            return IsSummary(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="root"/> is a summary (the per-image data lies in other files).</summary>
    internal static bool IsSummary(JsonElement root) =>
        root.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() == ResultFolder.SummaryFormat;

    private static (ResultHead, ResultSource) ReadHead(JsonElement root)
    {
        var sourceElement = root.GetProperty("source");
        var excluded = sourceElement.GetProperty("excluded").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        PreprocessingOptions? preprocessing = sourceElement.TryGetProperty("preprocessing", out var pre)
            ? pre.Deserialize<PreprocessingOptions>(PreprocessingJson)
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
            // Documents written before automatic K existed have none of its options: the defaults.
            AutomaticClusterCount = o.TryGetProperty("automaticClusters", out var automatic) && automatic.GetBoolean(),
            ClusterCountCriterion = o.TryGetProperty("clusterCountCriterion", out var criterion)
                ? ClusteringOptionNames.ParseClusterCountCriterion(criterion.GetString()!)
                : ClusterCountCriterion.Silhouette,
            MinimumClusterCount = o.TryGetProperty("minClusters", out var minimum) ? minimum.GetInt32() : 2,
            MaximumClusterCount = o.TryGetProperty("maxClusters", out var maximum) ? maximum.GetInt32() : 20,
            Linkage = ClusteringOptionNames.ParseLinkage(o.GetProperty("linkage").GetString()!),
            ReferenceCount = o.GetProperty("refs").GetInt32(),
            NormalImageLimit = o.GetProperty("normalLimit").GetInt32(),
            CoresetFraction = o.TryGetProperty("coreset", out var coreset) ? coreset.GetDouble() : 0,
            DetectThenCluster = o.TryGetProperty("detectThenCluster", out var detectThenCluster) && detectThenCluster.GetBoolean(),
            Seed = o.GetProperty("seed").GetInt32(),
            PretrainDimension = o.GetProperty("pretrainDimension").GetInt32(),
            TargetDimension = o.GetProperty("targetDimension").GetInt32(),
            // Documents written before the patch size was an option all used 3.
            PatchSize = o.TryGetProperty("patchSize", out var patchSize) ? patchSize.GetInt32() : 3,
            LayerNorm = o.GetProperty("layerNorm").GetBoolean(),
            BatchSize = o.GetProperty("batchSize").GetInt32(),
            MaxImageDimension = o.GetProperty("maxImageDimension").GetInt32(),
        };
        var timings = root.GetProperty("timingsSeconds").EnumerateObject()
            .Select(t => new StageTiming(Enum.Parse<PipelineStage>(t.Name, ignoreCase: true), TimeSpan.FromSeconds(t.Value.GetDouble())))
            .ToArray();
        var hasGrid = root.TryGetProperty("alphaGrid", out var grid);
        var head = new ResultHead(
            options,
            hasGrid ? grid.GetProperty("height").GetInt32() : 0,
            hasGrid ? grid.GetProperty("width").GetInt32() : 0,
            root.GetProperty("embeddingDimension").GetInt32(),
            root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray(),
            timings,
            // Documents written before names existed have none.
            root.TryGetProperty("clusterNames", out var names) ? ClusterNames.FromJson(names) : ClusterNames.Empty)
        {
            AnomalyThreshold = root.TryGetProperty("anomalyThreshold", out var threshold) ? threshold.GetDouble() : null,
            DetectedGood = root.TryGetProperty("detectedGood", out var detectedGood)
                ? new DetectedGoodGroup(detectedGood.GetProperty("images").GetInt32(), detectedGood.GetProperty("cluster").GetInt32())
                : null,
            PixelDetection = root.TryGetProperty("detection", out var detection) ? ReadPixelDetection(detection) : null,
            // Documents written before the algorithm was recorded all came from the distance matrix.
            Algorithm = root.TryGetProperty("algorithm", out var algorithm)
                ? ClusteringOptionNames.ParseAlgorithm(algorithm.GetProperty("name").GetString()!)
                : ClusteringAlgorithm.DistanceMatrix,
            AlgorithmReason = root.TryGetProperty("algorithm", out var recorded) ? OptionalString(recorded, "reason") : null,
            ClusterCountChoice = ReadClusterCountChoice(root),
            Warnings = ReadWarnings(root),
        };
        return (head, source);
    }

    private static (ClusteringResult, ResultSource) Read(JsonElement root)
    {
        if (IsSummary(root))
        {
            throw new InvalidDataException($"this result.json is a summary; read its folder with {nameof(ResultFolder)}.{nameof(ResultFolder.Read)}.");
        }
        var (head, source) = ReadHead(root);

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

        var leaves = tree.TryGetProperty("leaves", out var leavesName) && leavesName.GetString() != "images"
            ? root.GetProperty("images").EnumerateArray().Select(image => image.GetProperty("leaf").GetInt32()).ToArray()
            : null;
        return (head.ToResult(images, errors, MergeTree.FromLinkageArray(linkage), leaves), source);
    }

    /// <summary>The pixel metrics inside the detection object, and how the maps were made (the method is fixed: see Core's AnomalyMap).</summary>
    private static void WritePixelDetection(Utf8JsonWriter json, PixelDetectionScores pixels)
    {
        json.WriteNumber("pixelAuroc", pixels.PixelAuroc);
        json.WriteNumber("pro", pixels.Pro);
        json.WriteNumber("proIntegrationLimit", pixels.ProIntegrationLimit);
        json.WriteNumber("pixelImages", pixels.Images);
        json.WriteNumber("pixels", pixels.Pixels);
        json.WriteNumber("defectPixels", pixels.DefectPixels);
        json.WriteNumber("defectRegions", pixels.Regions);
        json.WriteString("anomalyMap", PixelAnomalyMapDescription);
    }

    /// <summary>How pixel anomaly maps are made, as result.json records it next to the pixel metrics.</summary>
    public const string PixelAnomalyMapDescription =
        "raw patch scores, bilinear (align_corners=false) to the mask's size, Gaussian sigma 4 backbone-input pixels (PatchCore's), masks binarised at 128";

    private static PixelDetectionScores? ReadPixelDetection(JsonElement detection)
    {
        if (detection.ValueKind != JsonValueKind.Object || !detection.TryGetProperty("pixelAuroc", out var auroc))
        {
            return null;
        }
        return new PixelDetectionScores(
            auroc.GetDouble(), detection.GetProperty("pro").GetDouble(), detection.GetProperty("proIntegrationLimit").GetDouble(),
            detection.GetProperty("pixelImages").GetInt32(), detection.GetProperty("pixels").GetInt64(), detection.GetProperty("defectPixels").GetInt64(),
            detection.GetProperty("defectRegions").GetInt32());
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
