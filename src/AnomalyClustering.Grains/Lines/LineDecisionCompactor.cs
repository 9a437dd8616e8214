using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Merges the parts of a line's closed decision-log hours into one compacted part per hour (a busy hour has up to 120
/// parts, one per flush, and every page lists and opens them; a store bills per blob), for the line's log grain: one hour
/// per call, the oldest first, so that a log coming back after a long outage catches up gradually.
/// <para>
/// An hour's parts are read one at a time (in log order: by name) and written as row groups of
/// <see cref="RowGroupRows"/> to a temporary file, so memory holds a row group and one part, never the hour. The compacted
/// part (<see cref="LineBlobNames.CompactedDecisionPart"/>) is created first, with the names and row counts of the parts it
/// replaces in its metadata (<see cref="CompactedPartManifest"/>); the replaced parts are deleted after. A crash or a store
/// away in between leaves both, and readers (<see cref="LineDecisionLog"/>) ignore the replaced parts once the compacted
/// one exists; the next call deletes them. A write whose answer was lost is found by the next call's listing. So each row
/// is read once at every step, and a call repeated at any point changes nothing more.
/// </para>
/// <para>
/// Where the scan has got to is kept in the store, so that a new activation of the log (after a deactivation, a silo
/// restart, a rebalance) goes on from there rather than listing a year of day folders again: the marker
/// (<see cref="LineBlobNames.DecisionCompactionMarker"/>) names the first day that may still hold an hour to compact. It
/// moves past a day only when every hour of that day is compacted or has at most one part, and is written only when it
/// moves; a write that fails is logged and made again at the next call. A new activation starts a day before the marker's
/// day (not before the log's first day): a day the scan has passed can still get a second part of an hour (a decision
/// later than the grace, or a marker written by a silo whose clock ran ahead), and that day is looked at again. A marker
/// that is missing, cannot be read as a day, or names a day after the last closed hour's day (which the scan never passes:
/// the writer's clock ran ahead of this silo's) is not trusted: the scan starts at the log's first day, as it did before
/// there was one. A part that lands in a day the scan has passed is read as any part, and compacted only by a new
/// activation whose slack day it lies in.
/// </para>
/// <para>
/// The log grain runs it in the background (<see cref="Start"/>), off its turn, so that appends and flushes go on while an
/// hour (seconds of reads and writes on a cloud store) is compacted: at most one compaction at a time, its state here and
/// touched by one thread at a time (the background task, then the grain's turn once it has ended). While one runs, the log
/// writes no part of an hour up to its last closed hour (<see cref="RunningUpTo"/>), so no part it lists is rewritten or
/// added under it; the hours the log held when it started are skipped as before.
/// </para>
/// </summary>
/// <param name="blobs">The store of the line's log.</param>
/// <param name="linePrefix">The line's blob prefix.</param>
/// <param name="logger">Where compactions and failed deletes are logged.</param>
/// <param name="rowGroupRows">The rows of a compacted part's row groups (<see cref="RowGroupRows"/>; tests make them small).</param>
internal sealed partial class LineDecisionCompactor(IBlobStore blobs, string linePrefix, ILogger logger, int rowGroupRows = LineDecisionCompactor.RowGroupRows)
{
    /// <summary>The rows of a compacted part's row groups: a page decodes the groups it reads, not the hour.</summary>
    public const int RowGroupRows = 4096;

    /// <summary>Day folders one call lists at most while it looks for an hour to compact (a day compacted already lists 24 names).</summary>
    public const int DaysListedPerCall = 4;

    // The first day that may hold an hour to compact; null until the log's first part is found.
    private DateTime? _scanDay;

    // The day the store's marker holds, as this activation read or wrote it, or the log's first day when the marker is not
    // to be trusted (what a new activation would start from either way): the marker is written when _scanDay passes it.
    private DateTime? _markedDay;

    // The compaction running in the background, until the grain's turn collects it; and what stops it on deactivation.
    private Task? _running;
    private DateTimeOffset _runningUpTo;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// The last closed hour of the compaction started in the background, until the log's turn collects it
    /// (<see cref="Collect"/>): the log writes no part of an hour up to it meanwhile. Null when none runs.
    /// </summary>
    public DateTimeOffset? RunningUpTo => _running is null ? null : _runningUpTo;

    /// <summary>
    /// Starts <see cref="CompactNextAsync"/> in the background (off the caller's turn), skipping the hours in
    /// <paramref name="heldHours"/> (the log's buffered or unanswered hours when it starts; it writes none up to
    /// <paramref name="lastClosedHour"/> until the compaction is collected). A failure is logged; the next start tries again.
    /// </summary>
    /// <exception cref="InvalidOperationException">A compaction is running or not collected yet.</exception>
    public void Start(DateTimeOffset lastClosedHour, IReadOnlySet<DateTimeOffset> heldHours)
    {
        ArgumentNullException.ThrowIfNull(heldHours);
        if (_running is not null)
        {
            throw new InvalidOperationException("a compaction of the decision log is running already");
        }
        _runningUpTo = lastClosedHour;
        var stopping = _stopping.Token;
        _running = Task.Run(async () =>
        {
            try
            {
                await CompactNextAsync(lastClosedHour, heldHours.Contains, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopped by a deactivation: what it wrote is left as a crash would leave it, which the next call finishes.
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The store away (BlobStoreException is an IOException) or a part that is not one: the next start tries again.
                LogCompactionFailed(logger, e, linePrefix);
            }
        }, CancellationToken.None);
    }

    /// <summary>Collects the background compaction once it has ended (on the log's turn); true when none runs any more.</summary>
    public bool Collect()
    {
        if (_running is { IsCompleted: true })
        {
            _running = null;
        }
        return _running is null;
    }

    /// <summary>
    /// Stops the background compaction (its store calls are cancelled) and waits for it until <paramref name="cancellationToken"/>
    /// fires; true when none runs any more. One left running is harmless: its compacted part is written before any delete.
    /// </summary>
    public async Task<bool> StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_running is { } running)
        {
            try
            {
                await running.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return Collect();
    }

    private string Root => LineBlobNames.Decisions(linePrefix);

    private string Marker => LineBlobNames.DecisionCompactionMarker(linePrefix);

    // A marker is a day; a blob much larger is not one.
    private const string MarkerFormat = "yyyy-MM-dd";
    private const int MarkerMaxBytes = 64;

    /// <summary>
    /// Compacts the oldest hour up to <paramref name="lastClosedHour"/> (its start, UTC) that has more than one part, or
    /// finishes one whose replaced parts are still there; stops at the first hour <paramref name="isHeld"/> says the log
    /// still holds rows of (buffered, or a part write not answered), since a part of it may still come. Returns the hour
    /// it worked on, or null when none needed it (within the days it listed). A new activation's first call starts at the
    /// marker's day; a call that moved past a day writes the marker.
    /// </summary>
    /// <exception cref="BlobStoreException">The store failed (away, a read or the compacted part's write): nothing is lost, call again later.</exception>
    /// <exception cref="InvalidDataException">A part of the hour is not a decision part.</exception>
    public async Task<DateTimeOffset?> CompactNextAsync(DateTimeOffset lastClosedHour, Func<DateTimeOffset, bool> isHeld, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(isHeld);
        var last = lastClosedHour.UtcDateTime;
        _scanDay ??= await StartDayAsync(last.Date, cancellationToken).ConfigureAwait(false);
        var worked = await ScanAsync(last, isHeld, cancellationToken).ConfigureAwait(false);
        await MarkScanDayAsync(cancellationToken).ConfigureAwait(false);
        return worked;
    }

    /// <summary>
    /// Lists at most <see cref="DaysListedPerCall"/> days from <see cref="_scanDay"/> on and compacts the first hour that
    /// needs it (<see cref="CompactNextAsync"/>), moving <see cref="_scanDay"/> past each day it finds done.
    /// </summary>
    private async Task<DateTimeOffset?> ScanAsync(DateTime last, Func<DateTimeOffset, bool> isHeld, CancellationToken cancellationToken)
    {
        for (var listed = 0; listed < DaysListedPerCall && _scanDay is { } day && day <= last.Date; listed++)
        {
            foreach (var (hour, parts) in await PartsOfDayAsync(day, cancellationToken).ConfigureAwait(false))
            {
                var at = new DateTimeOffset(hour, TimeSpan.Zero);
                if (hour > last || isHeld(at))
                {
                    return null;
                }
                if (await CompactHourAsync(at, parts, cancellationToken).ConfigureAwait(false))
                {
                    // The day is listed again next call: its later hours may need compacting too.
                    return at;
                }
            }
            if (day >= last.Date)
            {
                // The last closed hour's day closes more hours later (a line idle past the grace stops here with the
                // afternoon still to come): listed again next call, never skipped.
                return null;
            }
            _scanDay = day.AddDays(1);
        }
        return null;
    }

    /// <summary>Compacts one hour's parts (blob names, in log order), or deletes the parts its compacted part replaces; false when there was nothing to do.</summary>
    private async Task<bool> CompactHourAsync(DateTimeOffset hour, List<string> parts, CancellationToken cancellationToken)
    {
        var compacted = parts.FirstOrDefault(LineBlobNames.IsCompactedDecisionPart);
        var small = parts.Where(part => !LineBlobNames.IsCompactedDecisionPart(part)).ToList();
        if (compacted is null)
        {
            var name = LineBlobNames.CompactedDecisionPart(linePrefix, hour, KeyOf(small[0]));
            // A name readers would not take for a part (a key near the length limit) would hide the hour's rows: left as it is.
            if (small.Count < 2 || LineDecisionLog.HourOfPart(name[Root.Length..]) is null)
            {
                return false;
            }
            if (!await WriteCompactedAsync(name, hour, small, cancellationToken).ConfigureAwait(false))
            {
                // It exists already (an earlier write whose answer was lost): the next call reads what it replaces.
                return true;
            }
            await DeleteReplacedAsync(hour, small, cancellationToken).ConfigureAwait(false);
            return true;
        }
        if (small.Count == 0)
        {
            return false;
        }
        // Parts beside a compacted part: those it replaces are left by a crash or a failed delete; any other landed after
        // the compaction (a decision of the hour later than the grace) and stays a part of its own, which readers read.
        CompactedPartManifest manifest;
        await using (var file = await LineDecisionPartFile.OpenAsync(blobs, compacted, cancellationToken).ConfigureAwait(false))
        {
            manifest = file.Manifest(compacted)!;
        }
        var replaced = small.Where(manifest.Covers).ToList();
        if (replaced.Count == 0)
        {
            return false;
        }
        await DeleteReplacedAsync(hour, replaced, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Writes <paramref name="parts"/>' rows as the compacted part <paramref name="name"/>; false when it exists already.</summary>
    private async Task<bool> WriteCompactedAsync(string name, DateTimeOffset hour, List<string> parts, CancellationToken cancellationToken)
    {
        var replaced = new List<(string Part, int Rows)>();
        // On disk, not in memory: a fast line's hour is ~100k rows.
        await using var file = new FileStream(
            Path.Combine(Path.GetTempPath(), $"ac-decisions-{Guid.NewGuid():N}.parquet"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            81_920, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await LineDecisionParquet.WriteAsync(RowGroupsAsync(parts, replaced, cancellationToken), file, () => new CompactedPartManifest(replaced).ToMetadata(), cancellationToken)
            .ConfigureAwait(false);
        file.Position = 0;
        try
        {
            await blobs.PutAsync(name, file, overwrite: false, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobAlreadyExistsException)
        {
            return false;
        }
        LogCompacted(logger, parts.Count, replaced.Sum(p => p.Rows), hour, linePrefix);
        return true;
    }

    /// <summary>The rows of <paramref name="parts"/> in log order, in groups of at least <see cref="RowGroupRows"/> (the last: what is left); notes each part's row count in <paramref name="replaced"/>.</summary>
    private async IAsyncEnumerable<IReadOnlyList<LineDecision>> RowGroupsAsync(
        List<string> parts, List<(string Part, int Rows)> replaced, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var group = new List<LineDecision>();
        foreach (var part in parts)
        {
            var rows = await LineDecisionParquet.ReadAsync(blobs, part, cancellationToken).ConfigureAwait(false);
            replaced.Add((CompactedPartManifest.FileNameOf(part), rows.Count));
            group.AddRange(rows);
            if (group.Count >= rowGroupRows)
            {
                yield return group;
                group = [];
            }
        }
        if (group.Count > 0)
        {
            yield return group;
        }
    }

    /// <summary>
    /// Deletes parts a compacted part replaces. A delete that fails is logged and left to the next call: readers ignore
    /// the part while it is there.
    /// </summary>
    private async Task DeleteReplacedAsync(DateTimeOffset hour, List<string> parts, CancellationToken cancellationToken)
    {
        var left = parts.Count;
        foreach (var part in parts)
        {
            try
            {
                await blobs.DeleteAsync(part, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStoreException e)
            {
                LogDeleteFailed(logger, e, left, hour, linePrefix);
                return;
            }
            left--;
        }
    }

    /// <summary>
    /// The day a new activation's scan starts at: the day before the marker's (a day of slack: a part may have landed in the
    /// day the marker passed last, late or written under a clock behind the marker writer's), or the log's first day when
    /// the marker is missing, is not to be trusted (<see cref="ReadMarkerAsync"/>) or that day is before it. Null when the
    /// log has no part (then there is no marker to read either).
    /// </summary>
    /// <exception cref="BlobStoreUnavailableException">The store is away: the call fails, and the next one reads the marker again.</exception>
    private async Task<DateTime?> StartDayAsync(DateTime lastClosedDay, CancellationToken cancellationToken)
    {
        if (await FirstDayAsync(cancellationToken).ConfigureAwait(false) is not { } first)
        {
            return null;
        }
        var marked = await ReadMarkerAsync(lastClosedDay, cancellationToken).ConfigureAwait(false);
        // What the store holds (written again only once the scan passes it), and where the scan starts: a day before it.
        _markedDay = marked is { } day && day > first ? day : first;
        var start = _markedDay.Value.AddDays(-1);
        return start > first ? start : first;
    }

    /// <summary>
    /// The day the marker names, or null when there is none or it is not to be trusted: a blob that cannot be read (other
    /// than the store being away), is not a <c>yyyy-MM-dd</c> day, or names a day after <paramref name="lastClosedDay"/>.
    /// The scan never moves past the last closed hour's day, so such a marker was written by a silo whose clock ran ahead
    /// of this one's, and the days before it may still get parts by this silo's clock: the scan starts at the log's first
    /// day (not at the last closed day, since a clock ahead by more than a day passed earlier days too), which costs
    /// listings once, never a day.
    /// </summary>
    private async Task<DateTime?> ReadMarkerAsync(DateTime lastClosedDay, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(await blobs.ReadAllBytesAsync(Marker, MarkerMaxBytes, cancellationToken).ConfigureAwait(false));
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
        catch (BlobStoreException e) when (e is not BlobStoreUnavailableException)
        {
            LogMarkerUnreadable(logger, e, Marker, linePrefix);
            return null;
        }
        if (!DateTime.TryParseExact(text.Trim(), MarkerFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day)
            || day > lastClosedDay)
        {
            LogMarkerIgnored(logger, Marker, text.Length > 40 ? text[..40] : text, linePrefix);
            return null;
        }
        return day;
    }

    /// <summary>
    /// Writes the marker when the scan has moved past the day it holds (never otherwise: not every tick). A write that
    /// fails is logged and made again at the end of the next call: until then a new activation starts at an earlier day,
    /// which costs listings, never a day. A stop before or during the write throws <see cref="OperationCanceledException"/>.
    /// </summary>
    private async Task MarkScanDayAsync(CancellationToken cancellationToken)
    {
        if (_scanDay is not { } day || (_markedDay is { } marked && day <= marked))
        {
            return;
        }
        // Stopped (a deactivation, or the line's deletion, which deletes the log's blobs once this call has ended): nothing
        // is written after that.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var content = new MemoryStream(Encoding.UTF8.GetBytes(day.ToString(MarkerFormat, CultureInfo.InvariantCulture)), writable: false);
            await blobs.PutAsync(Marker, content, overwrite: true, cancellationToken).ConfigureAwait(false);
            _markedDay = day;
        }
        catch (BlobStoreException e) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped during the write (a cloud store reports its cancelled request as the store being away): a stop, which
            // the caller expects, not a write to log as failed.
            throw new OperationCanceledException("the compaction was stopped while it wrote its marker", e, cancellationToken);
        }
        catch (BlobStoreException e)
        {
            LogMarkerWriteFailed(logger, e, day, linePrefix);
        }
    }

    /// <summary>The day of the log's first part, or null when it has none.</summary>
    private async Task<DateTime?> FirstDayAsync(CancellationToken cancellationToken)
    {
        await foreach (var entry in blobs.ListAsync(Root, cancellationToken).ConfigureAwait(false))
        {
            if (LineDecisionLog.HourOfPart(entry.Name[Root.Length..]) is { } hour)
            {
                return hour.Date;
            }
        }
        return null;
    }

    /// <summary>The parts of one day folder by hour (blob names in log order), the hours in order.</summary>
    private async Task<SortedDictionary<DateTime, List<string>>> PartsOfDayAsync(DateTime day, CancellationToken cancellationToken)
    {
        var hours = new SortedDictionary<DateTime, List<string>>();
        var folder = Root + day.ToString("'date='yyyy-MM-dd'/'", CultureInfo.InvariantCulture);
        await foreach (var entry in blobs.ListAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            if (LineDecisionLog.HourOfPart(entry.Name[Root.Length..]) is not { } hour)
            {
                continue;
            }
            if (!hours.TryGetValue(hour, out var parts))
            {
                hours[hour] = parts = [];
            }
            parts.Add(entry.Name);
        }
        return hours;
    }

    /// <summary>A part's key: its file name between <c>part-</c> and <c>.parquet</c>.</summary>
    private static string KeyOf(string part)
    {
        var name = CompactedPartManifest.FileNameOf(part);
        return name["part-".Length..^".parquet".Length];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision log of line {Line} could not compact a closed hour's parts; the next flush tick tries again")]
    private static partial void LogCompactionFailed(ILogger logger, Exception exception, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Parts} decision parts ({Rows} decisions) of hour {Hour:u} of line {Line} into one")]
    private static partial void LogCompacted(ILogger logger, int parts, int rows, DateTimeOffset hour, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compaction marker {Marker} of line {Line} could not be read; compaction scans the log from its first day")]
    private static partial void LogMarkerUnreadable(ILogger logger, Exception exception, string marker, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compaction marker {Marker} of line {Line} holds '{Text}', not a day the log can have reached; compaction scans the log from its first day")]
    private static partial void LogMarkerIgnored(ILogger logger, string marker, string text, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision log of line {Line} could not write its compaction marker (day {Day:yyyy-MM-dd}); the next compaction writes it, and a new activation meanwhile scans from an earlier day")]
    private static partial void LogMarkerWriteFailed(ILogger logger, Exception exception, DateTime day, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision log of line {Line} could not delete {Count} parts of hour {Hour:u} that its compacted part replaces; readers ignore them, the next compaction deletes them")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, int count, DateTimeOffset hour, string line);
}
