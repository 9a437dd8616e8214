using System.Globalization;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Storage;
using Parquet;
using Parquet.Schema;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// The Parquet form of a part of a line's decision log: one row per <see cref="LineDecision"/>, one column per field.
/// <c>decided_at</c> is a UTC timestamp in nanoseconds (a .NET tick is 100 ns, so it reads back exactly);
/// <c>distances</c> and <c>ward_increases</c> are JSON objects (type name to value) in string columns, since the types differ
/// between catalog versions and a fixed list of columns cannot hold them; <c>error_reason</c> / <c>error_message</c> are
/// null unless the decision is <c>error</c>. Writing and reading are O(rows x types).
/// </summary>
public static class LineDecisionParquet
{
    /// <summary>The column names, in file order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "image_id", "file_name", "decided_at", "catalog_version", "decision", "outcome", "nearest", "anomaly_score", "defective",
        "distances", "ward_increases", "margin", "acceptance_radius", "novelty_score", "error_reason", "error_message",
    ];

    /// <summary>
    /// The key-value metadata of a part written as row groups that gives each group's earliest and latest <c>decided_at</c>
    /// (UTC ticks, <c>min-max;</c> per group, in group order), so that a page with a time window skips the groups outside it
    /// undecoded. Parquet's own column statistics are not used: Parquet.Net (6.1) writes those of this nanosecond timestamp
    /// column in milliseconds, truncated, and reads them back as a bare integer.
    /// </summary>
    public const string DecidedAtRangesKey = "anomaly_clustering.decided_at_ranges";

    /// <summary>Writes <paramref name="decisions"/> as one row group to <paramref name="destination"/>.</summary>
    public static async Task WriteAsync(IReadOnlyList<LineDecision> decisions, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        // Fresh fields per file: a Parquet.Net field belongs to the one schema it is put in, and parts are written concurrently.
        var fields = new Fields();
        await using var writer = await ParquetWriter.CreateAsync(fields.Schema, destination, cancellationToken: cancellationToken).ConfigureAwait(false);
        await WriteGroupAsync(writer, fields, decisions, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes each list of <paramref name="rowGroups"/> as a row group of one file, as the lists come (one list in memory at
    /// a time), then the key-value metadata <paramref name="metadata"/> answers once every group is written, and each group's
    /// range of <c>decided_at</c> (<see cref="DecidedAtRangesKey"/>).
    /// </summary>
    public static async Task WriteAsync(
        IAsyncEnumerable<IReadOnlyList<LineDecision>> rowGroups, Stream destination, Func<IReadOnlyDictionary<string, string>> metadata,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rowGroups);
        ArgumentNullException.ThrowIfNull(metadata);
        var fields = new Fields();
        await using var writer = await ParquetWriter.CreateAsync(fields.Schema, destination, cancellationToken: cancellationToken).ConfigureAwait(false);
        var ranges = new StringBuilder();
        await foreach (var group in rowGroups.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await WriteGroupAsync(writer, fields, group, cancellationToken).ConfigureAwait(false);
            var min = group.Count == 0 ? 0 : group.Min(d => d.DecidedAt.UtcTicks);
            var max = group.Count == 0 ? 0 : group.Max(d => d.DecidedAt.UtcTicks);
            ranges.Append(CultureInfo.InvariantCulture, $"{min}-{max};");
        }
        // The footer, which holds the metadata, is written when the writer is disposed.
        writer.CustomMetadata = new Dictionary<string, string>(metadata()) { [DecidedAtRangesKey] = ranges.ToString() };
    }

    private static async Task WriteGroupAsync(ParquetWriter writer, Fields fields, IReadOnlyList<LineDecision> decisions, CancellationToken cancellationToken)
    {
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(fields.ImageId, Column(decisions, d => d.ImageId)).ConfigureAwait(false);
        await group.WriteAsync(fields.FileName, Column(decisions, d => d.FileName)!).ConfigureAwait(false);
        await group.WriteAsync<DateTime>(fields.DecidedAt, Column(decisions, d => d.DecidedAt.UtcDateTime), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<int>(fields.CatalogVersion, Column(decisions, d => d.CatalogVersion), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(fields.Decision, Column(decisions, d => d.Decision)).ConfigureAwait(false);
        await group.WriteAsync(fields.Outcome, Column(decisions, d => d.Outcome)).ConfigureAwait(false);
        await group.WriteAsync(fields.Nearest, Column(decisions, d => d.Nearest)).ConfigureAwait(false);
        await group.WriteAsync<double>(fields.AnomalyScore, Column(decisions, d => d.AnomalyScore), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<bool>(fields.Defective, Column(decisions, d => d.Defective), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(fields.Distances, Column(decisions, d => JsonSerializer.Serialize(d.Distances))).ConfigureAwait(false);
        await group.WriteAsync(fields.WardIncreases, Column(decisions, d => JsonSerializer.Serialize(d.WardIncreases))).ConfigureAwait(false);
        await group.WriteAsync<double>(fields.Margin, Column(decisions, d => d.Margin), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<double>(fields.AcceptanceRadius, Column(decisions, d => d.AcceptanceRadius), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<double>(fields.NoveltyScore, Column(decisions, d => d.NoveltyScore), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(fields.ErrorReason, Column(decisions, d => d.Error?.Reason)!).ConfigureAwait(false);
        await group.WriteAsync(fields.ErrorMessage, Column(decisions, d => d.Error?.Message)!).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads every row of the part stored as blob <paramref name="name"/>: whole into memory first, since Parquet's reader
    /// seeks (to the footer) and a cloud store's read stream does not.
    /// </summary>
    /// <exception cref="InvalidDataException">The blob is not a decision part.</exception>
    public static async Task<IReadOnlyList<LineDecision>> ReadAsync(IBlobStore store, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var content = new MemoryStream(await store.ReadAllBytesAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false), writable: false);
        return await ReadAsync(content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads every row of a part (a readable, seekable stream), in file order.</summary>
    /// <exception cref="InvalidDataException">The file is not a decision part (a column is missing).</exception>
    public static async Task<IReadOnlyList<LineDecision>> ReadAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var reader = await ParquetReader.CreateAsync(source, cancellationToken: cancellationToken).ConfigureAwait(false);
        var decisions = new List<LineDecision>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            decisions.AddRange(await ReadGroupAsync(reader, g, cancellationToken).ConfigureAwait(false));
        }
        return decisions;
    }

    /// <summary>
    /// The earliest and latest <c>decided_at</c> of each row group of a part written as row groups (a compacted part), in
    /// group order, as the part's key-value metadata <see cref="DecidedAtRangesKey"/> states them; null where it has none
    /// (a part as a flush wrote it, one written before the key existed) or the list is not one range per group, so that the
    /// caller decodes every group it reaches, as it would without them.
    /// </summary>
    internal static IReadOnlyList<(DateTimeOffset Min, DateTimeOffset Max)>? DecidedAtRanges(ParquetReader reader)
    {
        if (!reader.CustomMetadata.TryGetValue(DecidedAtRangesKey, out var text))
        {
            return null;
        }
        var ranges = new List<(DateTimeOffset Min, DateTimeOffset Max)>(reader.RowGroupCount);
        foreach (var range in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var bounds = range.Split('-');
            if (bounds.Length != 2
                || !long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min) || min > DateTime.MaxValue.Ticks
                || !long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max > DateTime.MaxValue.Ticks)
            {
                return null;
            }
            ranges.Add((new DateTimeOffset(min, TimeSpan.Zero), new DateTimeOffset(max, TimeSpan.Zero)));
        }
        return ranges.Count == reader.RowGroupCount ? ranges : null;
    }

    /// <summary>The rows of row group <paramref name="g"/> of a part, in file order.</summary>
    /// <exception cref="InvalidDataException">The file is not a decision part (a column is missing).</exception>
    internal static async Task<List<LineDecision>> ReadGroupAsync(ParquetReader reader, int g, CancellationToken cancellationToken)
    {
        DataField Field(string name) => reader.Schema.DataFields.FirstOrDefault(f => f.Name == name)
            ?? throw new InvalidDataException($"the Parquet part has no column '{name}'.");
        var decisions = new List<LineDecision>();
        using var group = reader.OpenRowGroupReader(g);
        var count = checked((int)group.RowCount);
        var ids = new string?[count];
        var files = new string?[count];
        var times = new DateTime[count];
        var versions = new int[count];
        var names = new string?[count];
        var outcomes = new string?[count];
        var nearest = new string?[count];
        var scores = new double?[count];
        var defective = new bool?[count];
        var distances = new string?[count];
        var increases = new string?[count];
        var margins = new double[count];
        var radii = new double[count];
        var novelty = new double?[count];
        var reasons = new string?[count];
        var messages = new string?[count];
        await group.ReadAsync(Field("image_id"), ids.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("file_name"), files.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<DateTime>(Field("decided_at"), times.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<int>(Field("catalog_version"), versions.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("decision"), names.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("outcome"), outcomes.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("nearest"), nearest.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<double>(Field("anomaly_score"), scores.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<bool>(Field("defective"), defective.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("distances"), distances.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("ward_increases"), increases.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<double>(Field("margin"), margins.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<double>(Field("acceptance_radius"), radii.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync<double>(Field("novelty_score"), novelty.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("error_reason"), reasons.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.ReadAsync(Field("error_message"), messages.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        for (var r = 0; r < count; r++)
        {
            decisions.Add(new LineDecision(
                ids[r]!,
                files[r],
                new DateTimeOffset(DateTime.SpecifyKind(times[r], DateTimeKind.Utc)),
                versions[r],
                names[r]!,
                outcomes[r]!,
                nearest[r]!,
                scores[r],
                defective[r],
                JsonSerializer.Deserialize<Dictionary<string, double>>(distances[r]!)!,
                JsonSerializer.Deserialize<Dictionary<string, double>>(increases[r]!)!,
                margins[r],
                radii[r],
                novelty[r],
                reasons[r] is { } reason ? new LineImageError(reason, messages[r] ?? "") : null));
        }
        return decisions;
    }

    private static T[] Column<T>(IReadOnlyList<LineDecision> decisions, Func<LineDecision, T> value)
    {
        var column = new T[decisions.Count];
        for (var d = 0; d < column.Length; d++)
        {
            column[d] = value(decisions[d]);
        }
        return column;
    }

    /// <summary>One schema's fields (never shared between two files).</summary>
    private sealed class Fields
    {
        public readonly DataField<string> ImageId = new("image_id");
        public readonly DataField<string> FileName = new("file_name", nullable: true);
        public readonly DateTimeDataField DecidedAt = new("decided_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Nanos);
        public readonly DataField<int> CatalogVersion = new("catalog_version");
        public readonly DataField<string> Decision = new("decision");
        public readonly DataField<string> Outcome = new("outcome");
        public readonly DataField<string> Nearest = new("nearest");
        public readonly DataField<double?> AnomalyScore = new("anomaly_score");
        public readonly DataField<bool?> Defective = new("defective");
        public readonly DataField<string> Distances = new("distances");
        public readonly DataField<string> WardIncreases = new("ward_increases");
        public readonly DataField<double> Margin = new("margin");
        public readonly DataField<double> AcceptanceRadius = new("acceptance_radius");
        public readonly DataField<double?> NoveltyScore = new("novelty_score");
        public readonly DataField<string> ErrorReason = new("error_reason", nullable: true);
        public readonly DataField<string> ErrorMessage = new("error_message", nullable: true);

        public ParquetSchema Schema => new(
            ImageId, FileName, DecidedAt, CatalogVersion, Decision, Outcome, Nearest, AnomalyScore, Defective,
            Distances, WardIncreases, Margin, AcceptanceRadius, NoveltyScore, ErrorReason, ErrorMessage);
    }
}
