using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// What a compacted part of a line's decision log replaces: the parts of its hour (their file names) whose rows it holds,
/// in log order, with their row counts. Kept in the compacted part's own Parquet metadata, not in its name (a name holds no
/// hundred part names) nor in a blob beside it (a second blob to keep in step, and a file that is not Parquet in a folder
/// Spark and DuckDB read): the part and what it replaces are written at once, so a reader that sees the part knows
/// which small parts to ignore, and a continuation token into a replaced part finds its row in the compacted one.
/// Naming the parts (rather than a range of names) keeps a part that lands in the hour after its compaction visible.
/// </summary>
internal sealed class CompactedPartManifest
{
    /// <summary>The key of the Parquet key-value metadata that holds the manifest.</summary>
    public const string MetadataKey = "anomaly_clustering.compacted_parts";

    private readonly Dictionary<string, int> _offsets = new(StringComparer.Ordinal);

    /// <summary>A manifest of the parts <paramref name="parts"/> (file names and row counts, in log order).</summary>
    public CompactedPartManifest(IEnumerable<(string Part, int Rows)> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var offset = 0;
        foreach (var (part, rows) in parts)
        {
            Parts.Add(new Entry(part, rows));
            _offsets[part] = offset;
            offset += rows;
        }
    }

    /// <summary>The replaced parts, in log order.</summary>
    public List<Entry> Parts { get; } = [];

    /// <summary>Whether the part named <paramref name="partName"/> (a file name or a path ending in one) is replaced.</summary>
    public bool Covers(string partName) => _offsets.ContainsKey(FileNameOf(partName));

    /// <summary>The compacted row of the replaced part <paramref name="partName"/>'s first row, or null when it is not replaced.</summary>
    public int? OffsetOf(string partName) => _offsets.TryGetValue(FileNameOf(partName), out var offset) ? offset : null;

    /// <summary>The Parquet key-value metadata that holds this manifest.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() =>
        new Dictionary<string, string>(StringComparer.Ordinal) { [MetadataKey] = JsonSerializer.Serialize(Parts) };

    /// <summary>The manifest of the compacted part <paramref name="name"/>, read from its metadata.</summary>
    /// <exception cref="InvalidDataException">The metadata holds no manifest, or not one this code wrote.</exception>
    public static CompactedPartManifest From(string name, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || !metadata.TryGetValue(MetadataKey, out var json))
        {
            throw new InvalidDataException($"the compacted decision part '{name}' does not say which parts it replaces (no '{MetadataKey}' metadata).");
        }
        List<Entry>? parts;
        try
        {
            parts = JsonSerializer.Deserialize<List<Entry>>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the compacted decision part '{name}' has an unreadable '{MetadataKey}' metadata.", e);
        }
        return parts is null || parts.Any(p => p?.Part is null || p.Rows < 0)
            ? throw new InvalidDataException($"the compacted decision part '{name}' has an unreadable '{MetadataKey}' metadata.")
            : new CompactedPartManifest(parts.Select(p => (p.Part, p.Rows)));
    }

    /// <summary>The file name of a part's path (the name alone when it has no folder).</summary>
    public static string FileNameOf(string part) => part[(part.LastIndexOf('/') + 1)..];

    /// <summary>One replaced part.</summary>
    /// <param name="Part">Its file name (<c>part-....parquet</c>, in the compacted part's hour folder).</param>
    /// <param name="Rows">Its rows.</param>
    public sealed record Entry([property: JsonPropertyName("part")] string Part, [property: JsonPropertyName("rows")] int Rows);
}
