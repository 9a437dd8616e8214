using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Reads job options whose <c>"clusters"</c> is <c>"auto"</c> as <c>"automaticClusters": true</c> (K found from the merge
/// tree), so that the API spells it as the CLI does (<c>--clusters auto</c>) while the wire record keeps an integer K.
/// Everything else is read and written by the options it was registered in.
/// </summary>
internal sealed class AutomaticClustersJsonConverter : JsonConverter<JobOptions>
{
    private JsonSerializerOptions? _inner;

    /// <inheritdoc/>
    public override JobOptions? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader);
        if (node is JsonObject body)
        {
            var clusters = body.FirstOrDefault(member => string.Equals(member.Key, "clusters", StringComparison.OrdinalIgnoreCase));
            if (clusters.Value is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                if (!string.Equals(value.GetValue<string>(), "auto", StringComparison.OrdinalIgnoreCase))
                {
                    throw new JsonException($"clusters is \"{value.GetValue<string>()}\"; give a whole number K or \"auto\".");
                }
                body.Remove(clusters.Key);
                body["automaticClusters"] = true;
            }
        }
        return node.Deserialize<JobOptions>(Inner(options));
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, JobOptions value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, Inner(options));

    /// <summary>The same options without this converter (so reading the rewritten object does not come back here).</summary>
    private JsonSerializerOptions Inner(JsonSerializerOptions options)
    {
        if (_inner is null)
        {
            var inner = new JsonSerializerOptions(options);
            for (var i = inner.Converters.Count - 1; i >= 0; i--)
            {
                if (inner.Converters[i] is AutomaticClustersJsonConverter)
                {
                    inner.Converters.RemoveAt(i);
                }
            }
            _inner = inner;
        }
        return _inner;
    }
}
