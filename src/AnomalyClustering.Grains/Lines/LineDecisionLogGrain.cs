using System.Globalization;
using System.Text;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// A line's decision log, one activation per line. An image id is logged once: its decision is recorded at
/// <see cref="LineBlobNames.DecisionOf"/>, which a repeated post finds. Decisions are buffered and written as Parquet parts
/// partitioned by hour (<see cref="LineBlobNames.DecisionPart"/>) when <see cref="FlushRows"/> are buffered, every
/// <see cref="FlushInterval"/>, when a reader asks (<see cref="Flush"/>) and on deactivation, so that appending never
/// rewrites a growing blob and a part holds many rows.
/// <para>
/// Durability, per logged batch: (1) the batch is journalled (<see cref="LineBlobNames.PendingDecisions"/>, one blob per
/// batch and hour), (2) each decision's per-image record is written, (3) the decisions are buffered. A flush writes one part
/// per hour, then deletes that hour's journal blobs. An activation first re-logs what the journal holds: a journalled
/// decision is kept only when its per-image record is that same decision (a crash between (1) and (2) left an image that
/// was never answered, which its caller sends again), and only when no part of its hour holds its image id already (a
/// crash between a part's write and its journal's deletion). So a crash neither loses a recorded decision nor logs one
/// twice; the duplicate check reads one hour's parts, and only after a crash.
/// </para>
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineDecisionLogGrain(IBlobStore blobs, ILogger<LineDecisionLogGrain> logger) : Grain, ILineDecisionLogGrain
{
    /// <summary>Buffered decisions that trigger a flush.</summary>
    public const int FlushRows = 500;

    /// <summary>The longest a decision waits in the buffer while the activation lives.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(30);

    private readonly List<PendingBatch> _buffer = [];
    private int _bufferedRows;
    private int _sequence;
    private readonly string _activationTag = Guid.NewGuid().ToString("N")[..8];

    private string LinePrefix => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await RecoverJournalAsync(cancellationToken).ConfigureAwait(true);
        this.RegisterGrainTimer(_ => _buffer.Count > 0 ? FlushBufferAsync() : Task.CompletedTask,
            new GrainTimerCreationOptions(FlushInterval, FlushInterval) { Interleave = false, KeepAlive = false });
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await FlushBufferAsync().ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The journal keeps the batches; the next activation logs them.
            LogFlushFailed(logger, e, LinePrefix);
        }
    }

    /// <inheritdoc />
    public Task Flush() => FlushBufferAsync();

    /// <inheritdoc />
    public async Task Discard()
    {
        // The journal goes: a flush drops the buffered batches whose journal is gone (the one rule for a deleted line's
        // decisions), and a later activation has nothing to log again.
        await blobs.DeletePrefixAsync(LineBlobNames.PendingDecisions(LinePrefix)).ConfigureAwait(true);
        await DropBatchesWithoutJournalAsync().ConfigureAwait(true);
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> Append(IReadOnlyList<LineDecisionEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var stored = new string[entries.Count];
        var fresh = new List<int>();
        var firstOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var e = 0; e < entries.Count; e++)
        {
            // The same image twice in one batch is one decision: the first entry's.
            if (!firstOfId.TryAdd(entries[e].ImageId, e))
            {
                continue;
            }
            if (await ReadRecordAsync(entries[e].ImageId).ConfigureAwait(true) is { } earlier)
            {
                stored[e] = earlier;
            }
            else
            {
                fresh.Add(e);
            }
        }
        foreach (var hour in fresh.GroupBy(e => HourOf(entries[e].DecidedAt)))
        {
            var batch = new PendingBatch(NextBatchBlob(hour.Key), hour.Key, []);
            var journal = new StringBuilder();
            foreach (var e in hour)
            {
                journal.Append(entries[e].Json).Append('\n');
            }
            await PutTextAsync(batch.JournalBlob, journal.ToString(), overwrite: false).ConfigureAwait(true);
            try
            {
                foreach (var e in hour)
                {
                    await PutTextAsync(LineBlobNames.DecisionOf(LinePrefix, entries[e].ImageId), entries[e].Json, overwrite: true).ConfigureAwait(true);
                    batch.Rows.Add(LineImageDecider.ParseLogged(entries[e].Json));
                    stored[e] = entries[e].Json;
                }
            }
            finally
            {
                // What was recorded is buffered even when a later record failed: the flush deletes the journal blob with it.
                if (batch.Rows.Count > 0)
                {
                    _buffer.Add(batch);
                    _bufferedRows += batch.Rows.Count;
                }
            }
        }
        for (var e = 0; e < entries.Count; e++)
        {
            stored[e] = stored[firstOfId[entries[e].ImageId]];
        }
        if (_bufferedRows >= FlushRows)
        {
            await FlushBufferAsync().ConfigureAwait(true);
        }
        return stored;
    }

    private async Task FlushBufferAsync()
    {
        await DropBatchesWithoutJournalAsync().ConfigureAwait(true);
        // Batches are in journal order; per hour, the part is named after the hour's first batch with rows.
        foreach (var hour in _buffer.GroupBy(b => b.Hour).ToList())
        {
            var batches = hour.ToList();
            var rows = batches.SelectMany(b => b.Rows).OrderBy(d => d.DecidedAt).ToList();
            if (rows.Count > 0)
            {
                var part = LineBlobNames.DecisionPart(LinePrefix, hour.Key, KeyOf(batches.First(b => b.Rows.Count > 0).JournalBlob));
                using var content = new MemoryStream();
                await LineDecisionParquet.WriteAsync(rows, content).ConfigureAwait(true);
                content.Position = 0;
                // A conditional create: a part is never replaced (a part named after a batch holds all of that batch's rows).
                await blobs.PutAsync(part, content, overwrite: false).ConfigureAwait(true);
            }
            foreach (var batch in batches)
            {
                await blobs.DeleteAsync(batch.JournalBlob).ConfigureAwait(true);
                _buffer.Remove(batch);
                _bufferedRows -= batch.Rows.Count;
            }
        }
    }

    /// <summary>
    /// Drops the buffered batches whose journal blob is gone: only a deletion of the line removes a journal before its part
    /// is written, and a part written now would bring the deleted line's decisions back (into a new line of the same name,
    /// too). One listing of the journal folder per flush, not a request per batch.
    /// </summary>
    private async Task DropBatchesWithoutJournalAsync()
    {
        if (_buffer.Count == 0)
        {
            return;
        }
        var journalled = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var entry in blobs.ListAsync(LineBlobNames.PendingDecisions(LinePrefix)).ConfigureAwait(true))
        {
            journalled.Add(entry.Name);
        }
        var gone = _buffer.Where(batch => !journalled.Contains(batch.JournalBlob)).ToList();
        if (gone.Count == 0)
        {
            return;
        }
        foreach (var batch in gone)
        {
            _buffer.Remove(batch);
            _bufferedRows -= batch.Rows.Count;
        }
        LogDiscarded(logger, gone.Sum(batch => batch.Rows.Count), LinePrefix);
    }

    private async Task RecoverJournalAsync(CancellationToken cancellationToken)
    {
        var logged = new Dictionary<DateTimeOffset, HashSet<string>>();
        await foreach (var entry in blobs.ListAsync(LineBlobNames.PendingDecisions(LinePrefix), cancellationToken).ConfigureAwait(true))
        {
            var hour = HourFromKey(KeyOf(entry.Name));
            if (!logged.TryGetValue(hour, out var inParts))
            {
                logged[hour] = inParts = await ImageIdsInPartsAsync(hour, cancellationToken).ConfigureAwait(true);
            }
            var text = Encoding.UTF8.GetString(await blobs.ReadAllBytesAsync(entry.Name, cancellationToken: cancellationToken).ConfigureAwait(true));
            var batch = new PendingBatch(entry.Name, hour, []);
            foreach (var json in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var decision = LineImageDecider.ParseLogged(json);
                if (!inParts.Contains(decision.ImageId) && await ReadRecordAsync(decision.ImageId).ConfigureAwait(true) == json)
                {
                    batch.Rows.Add(decision);
                }
            }
            _buffer.Add(batch);
            _bufferedRows += batch.Rows.Count;
        }
        if (_buffer.Count > 0)
        {
            LogRecovered(logger, _bufferedRows, _buffer.Count, LinePrefix);
            await FlushBufferAsync().ConfigureAwait(true);
        }
    }

    private async Task<HashSet<string>> ImageIdsInPartsAsync(DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var part in blobs.ListAsync(LineBlobNames.DecisionHourFolder(LinePrefix, hour), cancellationToken).ConfigureAwait(true))
        {
            foreach (var decision in await LineDecisionParquet.ReadAsync(blobs, part.Name, cancellationToken).ConfigureAwait(true))
            {
                ids.Add(decision.ImageId);
            }
        }
        return ids;
    }

    /// <summary>A journal blob's name: the hour, then the time (ordinal order = journal order), then what makes it unique.</summary>
    private string NextBatchBlob(DateTimeOffset hour) =>
        LineBlobNames.PendingDecisions(LinePrefix)
        + string.Create(CultureInfo.InvariantCulture, $"{hour.UtcDateTime:yyyyMMddHH}-{DateTime.UtcNow.Ticks:D19}-{_activationTag}-{_sequence++:D6}.jsonl");

    private static string KeyOf(string journalBlob)
    {
        var name = journalBlob[(journalBlob.LastIndexOf('/') + 1)..];
        return name[..name.IndexOf('.', StringComparison.Ordinal)];
    }

    private static DateTimeOffset HourFromKey(string key) =>
        new(DateTime.ParseExact(key[..10], "yyyyMMddHH", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal), TimeSpan.Zero);

    private static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    private async Task PutTextAsync(string name, string text, bool overwrite)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
        await blobs.PutAsync(name, content, overwrite).ConfigureAwait(true);
    }

    private async Task<string?> ReadRecordAsync(string imageId)
    {
        try
        {
            var bytes = await blobs.ReadAllBytesAsync(LineBlobNames.DecisionOf(LinePrefix, imageId)).ConfigureAwait(true);
            return Encoding.UTF8.GetString(bytes);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Decisions journalled by one append for one hour, and those of them that are recorded.</summary>
    private sealed record PendingBatch(string JournalBlob, DateTimeOffset Hour, List<LineDecision> Rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-logged {Rows} journalled decisions of {Batches} batches of line {Line}")]
    private static partial void LogRecovered(ILogger logger, int rows, int batches, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Rows} buffered decisions of line {Line}: the line was deleted")]
    private static partial void LogDiscarded(ILogger logger, int rows, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision log of line {Line} could not write its parts on deactivation; the journal keeps them")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, string line);
}
