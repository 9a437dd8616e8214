using System.Globalization;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// A line's decision log, one activation per line. An image id is logged once: its decision is recorded at
/// <see cref="LineBlobNames.DecisionOf"/>, which a repeated post finds. Decisions are buffered and written as Parquet parts
/// partitioned by hour (<see cref="LineBlobNames.DecisionPart"/>) when <see cref="FlushRows"/> are buffered, every
/// <see cref="CoordinatorOptions.DecisionLogFlushInterval"/> (30 s) and on deactivation, so that appending never
/// rewrites a growing blob and a part holds many rows. Readers do not flush: <see cref="Buffered"/> answers the buffered decisions at the part and row the next flush
/// writes them to (a part's rows are its batches' in journal order, each batch's by decision time), which a reader merges
/// with the stored parts; so a page and its continuation token read the same before and after that flush, and a dashboard
/// that polls the log writes nothing.
/// <para>
/// Durability, per logged batch: (1) the batch is journalled (<see cref="LineBlobNames.PendingDecisions"/>, one blob per
/// batch and hour), (2) each decision's per-image record is written, (3) the decisions are buffered. A flush writes one part
/// per hour, then deletes that hour's journal blobs. An activation first re-logs what the journal holds: a journalled
/// decision is kept only when its per-image record is that same decision (a crash between (1) and (2) left an image that
/// was never answered, which its caller sends again), and only when no part of its hour holds a row of its image id that is
/// as final as it already (a crash between a part's write and its journal's deletion; an earlier <c>unknown-line</c> error of
/// the same image is another row). So a crash neither loses a recorded decision nor logs one
/// twice; the duplicate check reads one hour's parts, and only after a crash.
/// </para>
/// <para>
/// Compaction: each flush tick then starts, in the background and unless one still runs, the merge of the parts of at most
/// one closed hour (ended <see cref="CoordinatorOptions.DecisionLogCompactionGrace"/> ago, and holding none of the buffer's
/// rows) into one part (<see cref="LineDecisionCompactor"/>, which says how a crash at any point loses and repeats nothing),
/// the oldest first; how far it has got is kept in the store (<see cref="LineBlobNames.DecisionCompactionMarker"/>), so a
/// new activation goes on from there. Appends and flushes do not wait for it; while it runs, a flush leaves the rare
/// batches of the hours it may work on buffered. Deleting the line's log deletes the marker with the parts.
/// </para>
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineDecisionLogGrain(IBlobStore blobs, LineCatalogStore catalogs, IOptions<CoordinatorOptions> options, ILogger<LineDecisionLogGrain> logger)
    : Grain, ILineDecisionLogGrain
{
    /// <summary>Buffered decisions that trigger a flush.</summary>
    public const int FlushRows = 500;

    private readonly List<PendingBatch> _buffer = [];
    // Journal blobs whose batches a part holds, not deleted yet.
    private readonly List<string> _writtenJournals = [];
    // Parts (and their hours) whose write got no answer: they may exist and hold some of the buffered batches.
    private readonly Dictionary<string, DateTimeOffset> _unanswered = new(StringComparer.Ordinal);
    private int _bufferedRows;
    private int _sequence;
    private readonly string _activationTag = Guid.NewGuid().ToString("N")[..8];
    private LineDecisionCompactor? _compactor;

    private string LinePrefix => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await RecoverJournalAsync(cancellationToken).ConfigureAwait(true);
        _compactor = new LineDecisionCompactor(blobs, LinePrefix, logger);
        this.RegisterGrainTimer(_ => TickAsync(),
            new GrainTimerCreationOptions(options.Value.DecisionLogFlushInterval, options.Value.DecisionLogFlushInterval) { Interleave = false, KeepAlive = false });
    }

    /// <summary>
    /// The flush timer: writes the buffer (and retries journal deletes that failed: no reader's flush comes to do it), then,
    /// unless one still runs, starts the compaction of a closed hour in the background: appends and flushes go on meanwhile.
    /// </summary>
    private async Task TickAsync()
    {
        var compacting = !_compactor!.Collect();
        if (_buffer.Count > 0 || _writtenJournals.Count > 0)
        {
            await FlushBufferAsync().ConfigureAwait(true);
        }
        if (!compacting)
        {
            // The last hour that ended a grace ago: H + 1 h + grace <= now.
            var lastClosed = HourOf(DateTimeOffset.UtcNow - options.Value.DecisionLogCompactionGrace).AddHours(-1);
            _compactor.Start(lastClosed, HeldHours());
        }
    }

    /// <summary>The hours the log may still write a part of: it buffers rows of them, or a part write of them got no answer.</summary>
    private HashSet<DateTimeOffset> HeldHours() => [.. _buffer.Select(batch => batch.Hour), .. _unanswered.Values];

    /// <summary>
    /// Whether a flush leaves <paramref name="hour"/>'s batches buffered: a compaction running in the background may be
    /// working on it (a part written now could be one it lists, or a lost answer's retry recreate a part it deletes). They are
    /// journalled, and a rare case: a decision an hour or more late.
    /// </summary>
    private bool IsUnderCompaction(DateTimeOffset hour) => _compactor?.RunningUpTo is { } upTo && hour <= upTo;

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            // A compaction left running is harmless (its compacted part is written before any delete); the batches of the
            // hours it may work on then stay in the journal, which the next activation logs.
            if (_compactor is not null)
            {
                await _compactor.StopAsync(cancellationToken).ConfigureAwait(true);
            }
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
    public async Task<IReadOnlyList<LineBufferedDecision>> Buffered(LineBufferedDecisionQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (_buffer.Count == 0)
        {
            return [];
        }
        await SettleUnansweredPartsAsync().ConfigureAwait(true);
        // A deleted line's batch is never written, so it is not shown either (a new line of the name would show it).
        await DropBatchesWithoutJournalAsync().ConfigureAwait(true);
        var found = new List<LineBufferedDecision>();
        foreach (var (part, rows) in NextParts())
        {
            if (query.FromPart is { } from && string.CompareOrdinal(part, from) < 0)
            {
                continue;
            }
            for (var r = part == query.FromPart ? query.FromRow : 0; r < rows.Count && found.Count < query.Limit; r++)
            {
                if ((query.Since is { } since && rows[r].DecidedAt < since) || (query.Until is { } until && rows[r].DecidedAt >= until))
                {
                    continue;
                }
                found.Add(new LineBufferedDecision(part, r, JsonSerializer.Serialize(rows[r], LineImageDecider.LogJson)));
            }
        }
        return found;
    }

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
    public async Task LineDeleted()
    {
        // The compaction running in the background, if any, is stopped and waited for, so that what it wrote is there to
        // be found. A line made again under the name keeps its log.
        if (_compactor is not null)
        {
            await _compactor.StopAsync(CancellationToken.None).ConfigureAwait(true);
        }
        if (await catalogs.NewestAsync(LinePrefix, CancellationToken.None).ConfigureAwait(true) is null)
        {
            await blobs.DeletePrefixAsync(LineBlobNames.Decisions(LinePrefix)).ConfigureAwait(true);
            // Outside the log's folder; a stopped compaction writes it no more.
            await blobs.DeleteAsync(LineBlobNames.DecisionCompactionMarker(LinePrefix)).ConfigureAwait(true);
        }
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
            // An earlier decision stands, unless it was an unknown line's error and this one is not (LineDecision.IsFinal).
            if (await ReadRecordAsync(entries[e].ImageId).ConfigureAwait(true) is { } earlier
                && (LineImageDecider.ParseLogged(earlier).IsFinal || !LineImageDecider.ParseLogged(entries[e].Json).IsFinal))
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
        // Batches are in journal order; per hour, a part is named after the first batch it holds.
        foreach (var hour in _buffer.GroupBy(b => b.Hour).Where(hour => !IsUnderCompaction(hour.Key)).ToList())
        {
            var left = hour.ToList();
            while (left.FirstOrDefault(b => b.Rows.Count > 0) is { } first)
            {
                var part = LineBlobNames.DecisionPart(LinePrefix, hour.Key, KeyOf(first.JournalBlob));
                var held = await WritePartAsync(part, left).ConfigureAwait(true);
                if (!held.Contains(first))
                {
                    throw new InvalidOperationException($"the decision part '{part}' exists and does not hold the batch it is named after");
                }
                // Out of the buffer as soon as a part holds them: a journal delete that fails below must not write them twice.
                foreach (var batch in held)
                {
                    Written(batch);
                }
                left.RemoveAll(held.Contains);
            }
            foreach (var empty in left)
            {
                Written(empty);
            }
        }
        await DeleteWrittenJournalsAsync().ConfigureAwait(true);
    }

    /// <summary>
    /// Writes <paramref name="batches"/>' rows as the part <paramref name="part"/> and returns the batches it holds: all of
    /// them, or, when the part exists already, those it holds. A part is created, never replaced, and it exists already
    /// only when an earlier flush wrote it and lost the answer (a timeout after the write landed); rows buffered since then
    /// go to a part of their own.
    /// </summary>
    private async Task<List<PendingBatch>> WritePartAsync(string part, List<PendingBatch> batches)
    {
        using var content = new MemoryStream();
        await LineDecisionParquet.WriteAsync(RowsOf(batches), content).ConfigureAwait(true);
        content.Position = 0;
        // Until the store answers, the part may or may not exist; a write that throws leaves it so for the readers.
        _unanswered[part] = batches[0].Hour;
        List<PendingBatch> held;
        try
        {
            await blobs.PutAsync(part, content, overwrite: false).ConfigureAwait(true);
            held = batches;
        }
        catch (BlobAlreadyExistsException)
        {
            held = await HeldByAsync(part, batches).ConfigureAwait(true);
        }
        _unanswered.Remove(part);
        return held;
    }

    /// <summary>The batches of <paramref name="batches"/> that the existing part <paramref name="part"/> holds.</summary>
    private async Task<List<PendingBatch>> HeldByAsync(string part, List<PendingBatch> batches)
    {
        var inPart = (await LineDecisionParquet.ReadAsync(blobs, part).ConfigureAwait(true)).Select(d => d.ImageId).ToHashSet(StringComparer.Ordinal);
        // A batch's rows are fixed once buffered, so a part holds all of a batch or none of it.
        return batches.Where(b => b.Rows.Count > 0 && b.Rows.All(d => inPart.Contains(d.ImageId))).ToList();
    }

    /// <summary>
    /// Settles the parts whose write got no answer before a reader sees the buffer: the batches a part that exists holds
    /// leave the buffer, as the next flush would find, so that a reader does not get them from the part and the buffer.
    /// </summary>
    private async Task SettleUnansweredPartsAsync()
    {
        foreach (var (part, hour) in _unanswered.ToList())
        {
            if (await blobs.ExistsAsync(part).ConfigureAwait(true))
            {
                foreach (var batch in await HeldByAsync(part, _buffer.Where(b => b.Hour == hour).ToList()).ConfigureAwait(true))
                {
                    Written(batch);
                }
            }
            _unanswered.Remove(part);
        }
    }

    /// <summary>
    /// The parts the next flush writes, in log order (by name): per hour one, named after its first batch with rows and
    /// holding the hour's rows. A store that lost a part write's answer can make the flush split an hour (WritePartAsync).
    /// </summary>
    private IEnumerable<(string Part, List<LineDecision> Rows)> NextParts() =>
        _buffer.GroupBy(b => b.Hour)
            .Select(hour => (Hour: hour.Key, Batches: hour.ToList(), First: hour.FirstOrDefault(b => b.Rows.Count > 0)))
            .Where(hour => hour.First is not null)
            .Select(hour => (LineBlobNames.DecisionPart(LinePrefix, hour.Hour, KeyOf(hour.First!.JournalBlob)), RowsOf(hour.Batches)))
            .OrderBy(part => part.Item1, StringComparer.Ordinal);

    /// <summary>
    /// A part's rows: its batches' in journal order, each batch's by decision time. Rows buffered later go after those
    /// a reader has seen, so the row numbers a reader got from <see cref="Buffered"/> stay those of the written part.
    /// </summary>
    private static List<LineDecision> RowsOf(IEnumerable<PendingBatch> batches) =>
        [.. batches.SelectMany(b => b.Rows.OrderBy(d => d.DecidedAt))];

    private void Written(PendingBatch batch)
    {
        _buffer.Remove(batch);
        _bufferedRows -= batch.Rows.Count;
        _writtenJournals.Add(batch.JournalBlob);
    }

    /// <summary>
    /// Deletes the journal blobs of written batches. One that fails stays for the next flush and is only logged: its
    /// decisions are stored and in a part (the caller that appended them is not told otherwise), and an activation that
    /// finds it re-logs none of its rows, since a part of its hour holds them.
    /// </summary>
    private async Task DeleteWrittenJournalsAsync()
    {
        while (_writtenJournals.Count > 0)
        {
            try
            {
                await blobs.DeleteAsync(_writtenJournals[^1]).ConfigureAwait(true);
            }
            catch (BlobStoreException e)
            {
                LogJournalDeleteFailed(logger, e, _writtenJournals.Count, LinePrefix);
                return;
            }
            _writtenJournals.RemoveAt(_writtenJournals.Count - 1);
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
                logged[hour] = inParts = await LoggedKeysInPartsAsync(hour, cancellationToken).ConfigureAwait(true);
            }
            var text = Encoding.UTF8.GetString(await blobs.ReadAllBytesAsync(entry.Name, cancellationToken: cancellationToken).ConfigureAwait(true));
            var batch = new PendingBatch(entry.Name, hour, []);
            foreach (var json in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var decision = LineImageDecider.ParseLogged(json);
                if (!inParts.Contains(LoggedKey(decision)) && await ReadRecordAsync(decision.ImageId).ConfigureAwait(true) == json)
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

    private async Task<HashSet<string>> LoggedKeysInPartsAsync(DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var part in blobs.ListAsync(LineBlobNames.DecisionHourFolder(LinePrefix, hour), cancellationToken).ConfigureAwait(true))
        {
            foreach (var decision in await LineDecisionParquet.ReadAsync(blobs, part.Name, cancellationToken).ConfigureAwait(true))
            {
                ids.Add(LoggedKey(decision));
            }
        }
        return ids;
    }

    /// <summary>
    /// What makes a logged row the one a journalled decision would add: the image id and whether the decision is final. An
    /// image has at most one final decision, but an <c>unknown-line</c> error logged before it (sent before its line existed)
    /// shares its id: keyed by the id alone, a crash between the real decision's journal and its part lost it from the log.
    /// </summary>
    private static string LoggedKey(LineDecision decision) => decision.IsFinal ? "final:" + decision.ImageId : "pending:" + decision.ImageId;

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision log of line {Line} could not delete {Count} journal blobs of batches written as parts; the next flush deletes them")]
    private static partial void LogJournalDeleteFailed(ILogger logger, Exception exception, int count, string line);
}
