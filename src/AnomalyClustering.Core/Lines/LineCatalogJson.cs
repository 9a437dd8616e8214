using System.Text.Json;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>
/// The catalog's JSON document, a stable format other tools may read:
/// <c>{"format": "anomaly-clustering/line-catalog", "formatVersion": 1, "line", "version", "source": {"backbone",
/// "optionsReference", "referenceBank", "mode"}, "detectionThreshold", "rule": {"name": "ward-increase", "margin",
/// "acceptanceFactor"}, "embeddingDimension", "clusters": [{"name", "size", "spread", "centroid": [D numbers]}]}</c>, and for
/// a catalog made by the server <c>"scoring": {"jobId", "options": {...}, "backbone": {...}, "referenceImages",
/// "referenceFeatureBlobs", "referencesPerImage", "normalFeatureBlobs"}</c> (<see cref="CatalogScoring"/>).
/// Numbers are written shortest-round-trip, so a catalog read back decides exactly as the one written. Fields are only ever
/// added; a reader of version 1 ignores fields it does not know. O(K D) time.
/// </summary>
public static class LineCatalogJson
{
    /// <summary>The value of the <c>format</c> field.</summary>
    public const string FormatName = "anomaly-clustering/line-catalog";

    /// <summary>The format version this code writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The value of <c>rule.name</c>: <see cref="WardAssignmentRule"/>.</summary>
    public const string RuleName = "ward-increase";

    /// <summary>Writes <paramref name="catalog"/> as indented JSON.</summary>
    public static void Write(Stream stream, LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(catalog);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", FormatName);
        json.WriteNumber("formatVersion", FormatVersion);
        json.WriteString("line", catalog.Line);
        json.WriteNumber("version", catalog.Version);
        json.WriteStartObject("source");
        json.WriteString("backbone", catalog.Source.Backbone);
        json.WriteString("optionsReference", catalog.Source.OptionsReference);
        json.WriteString("referenceBank", catalog.Source.ReferenceBank);
        json.WriteString("mode", catalog.Source.Mode);
        json.WriteEndObject();
        if (catalog.DetectionThreshold is { } threshold)
        {
            json.WriteNumber("detectionThreshold", threshold);
        }
        else
        {
            json.WriteNull("detectionThreshold");
        }
        json.WriteStartObject("rule");
        json.WriteString("name", RuleName);
        json.WriteNumber("margin", catalog.Rule.Margin);
        json.WriteNumber("acceptanceFactor", catalog.Rule.AcceptanceFactor);
        json.WriteEndObject();
        json.WriteNumber("embeddingDimension", catalog.EmbeddingDimension);
        json.WriteStartArray("clusters");
        foreach (var cluster in catalog.Clusters)
        {
            json.WriteStartObject();
            json.WriteString("name", cluster.Name);
            json.WriteNumber("size", cluster.Size);
            json.WriteNumber("spread", cluster.Spread);
            json.WriteStartArray("centroid");
            foreach (var value in cluster.Centroid)
            {
                json.WriteNumberValue(value);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (catalog.Scoring is { } scoring)
        {
            WriteScoring(json, scoring);
        }
        json.WriteEndObject();
    }

    private static void WriteScoring(Utf8JsonWriter json, CatalogScoring scoring)
    {
        json.WriteStartObject("scoring");
        json.WriteString("jobId", scoring.JobId);
        json.WritePropertyName("options");
        json.WriteRawValue(scoring.OptionsJson);
        json.WritePropertyName("backbone");
        json.WriteRawValue(scoring.BackboneJson);
        json.WriteStartArray("referenceImages");
        foreach (var image in scoring.ReferenceImages)
        {
            json.WriteNumberValue(image);
        }
        json.WriteEndArray();
        json.WriteStartArray("referenceFeatureBlobs");
        foreach (var blob in scoring.ReferenceFeatureBlobs)
        {
            json.WriteStringValue(blob);
        }
        json.WriteEndArray();
        json.WriteNumber("referencesPerImage", scoring.ReferencesPerImage);
        json.WriteStartArray("normalFeatureBlobs");
        foreach (var blob in scoring.NormalFeatureBlobs)
        {
            json.WriteStringValue(blob);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static CatalogScoring ReadScoring(JsonElement scoring) => new(
        Required(scoring, "jobId").GetString() ?? "",
        Required(scoring, "options").GetRawText(),
        Required(scoring, "backbone").GetRawText(),
        [.. Required(scoring, "referenceImages").EnumerateArray().Select(value => value.GetInt32())],
        [.. Required(scoring, "referenceFeatureBlobs").EnumerateArray().Select(value => value.GetString() ?? "")],
        Required(scoring, "referencesPerImage").GetInt32(),
        [.. Required(scoring, "normalFeatureBlobs").EnumerateArray().Select(value => value.GetString() ?? "")]);

    /// <summary>Reads a catalog written by <see cref="Write"/> and checks it.</summary>
    /// <exception cref="InvalidLineCatalogException">Not JSON, not a catalog, a newer format version, or a field missing, mistyped or out of range.</exception>
    public static LineCatalog Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidLineCatalogException($"the catalog is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            try
            {
                return Parse(document.RootElement);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new InvalidLineCatalogException($"the catalog has a field of the wrong type: {e.Message}", e);
            }
        }
    }

    private static LineCatalog Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName)
        {
            throw new InvalidLineCatalogException($"not a line catalog: the document has no \"format\": \"{FormatName}\" field.");
        }
        var formatVersion = Required(root, "formatVersion").GetInt32();
        if (formatVersion != FormatVersion)
        {
            throw new InvalidLineCatalogException($"the catalog has format version {formatVersion}; this version of anomaly-cluster reads version {FormatVersion}. Upgrade it to read newer catalogs.");
        }
        var source = Required(root, "source");
        var rule = Required(root, "rule");
        var ruleName = Required(rule, "name").GetString();
        if (ruleName != RuleName)
        {
            throw new InvalidLineCatalogException($"the catalog's rule is '{ruleName}'; this version knows only '{RuleName}'.");
        }
        var settings = new AssignmentRuleSettings(Required(rule, "margin").GetDouble(), Required(rule, "acceptanceFactor").GetDouble());
        try
        {
            settings.Validate();
        }
        catch (InvalidClusteringInputException e)
        {
            throw new InvalidLineCatalogException($"the catalog's rule settings are out of range: {e.Message}", e);
        }
        var dimension = Required(root, "embeddingDimension").GetInt32();
        if (dimension < 1)
        {
            throw new InvalidLineCatalogException($"the catalog's embeddingDimension is {dimension}; it must be at least 1.");
        }
        var clusters = new List<CatalogCluster>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var element in Required(root, "clusters").EnumerateArray())
        {
            var name = Required(element, "name").GetString() ?? "";
            var size = Required(element, "size").GetInt32();
            var spread = Required(element, "spread").GetDouble();
            var centroid = Required(element, "centroid").EnumerateArray().Select(value => value.GetSingle()).ToArray();
            if (name.Trim().Length == 0 || !names.Add(name))
            {
                throw new InvalidLineCatalogException($"cluster {clusters.Count} has a blank or repeated name ('{name}').");
            }
            if (size < 1 || !(spread >= 0) || double.IsInfinity(spread))
            {
                throw new InvalidLineCatalogException($"cluster '{name}' has size {size} and spread {spread}; a size is at least 1 and a spread finite and not negative.");
            }
            if (centroid.Length != dimension || !centroid.All(float.IsFinite))
            {
                throw new InvalidLineCatalogException($"cluster '{name}' has a centroid of {centroid.Length} values (finite: {centroid.All(float.IsFinite)}); the catalog's dimension is {dimension}.");
            }
            clusters.Add(new CatalogCluster(name, size, centroid, spread));
        }
        if (clusters.Count == 0)
        {
            throw new InvalidLineCatalogException("the catalog has no clusters.");
        }
        var version = Required(root, "version").GetInt32();
        if (version < 1)
        {
            throw new InvalidLineCatalogException($"the catalog's version is {version}; versions start at 1.");
        }
        var threshold = root.TryGetProperty("detectionThreshold", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : (double?)null;
        return new LineCatalog(
            Required(root, "line").GetString() ?? "",
            version,
            new CatalogSource(
                Required(source, "backbone").GetString() ?? "",
                Required(source, "optionsReference").GetString() ?? "",
                source.TryGetProperty("referenceBank", out var bank) && bank.ValueKind == JsonValueKind.String ? bank.GetString() : null,
                Required(source, "mode").GetString() ?? ""),
            threshold,
            settings,
            dimension,
            clusters)
        {
            Scoring = root.TryGetProperty("scoring", out var scoring) && scoring.ValueKind == JsonValueKind.Object ? ReadScoring(scoring) : null,
        };
    }

    private static JsonElement Required(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new InvalidLineCatalogException($"the catalog has no '{name}' field.");
}
