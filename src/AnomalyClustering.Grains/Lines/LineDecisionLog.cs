using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Lines;

/// <summary>A page of a line's decision log and where the next one starts.</summary>
/// <param name="Decisions">The decisions, in log order (parts by name, the time of their first batch; rows in the order they were logged).</param>
/// <param name="Next">The continuation token of the next page, or null when the log (within the window) has no more.</param>
public sealed record LineDecisionSlice(IReadOnlyList<LineDecision> Decisions, string? Next);

/// <summary>A query of the decision log the caller got wrong (a window that ends before it starts, a token that is not one).</summary>
/// <param name="message">What was wrong, for a person.</param>
/// <param name="parameter">The query parameter at fault.</param>
public sealed class InvalidLineDecisionQueryException(string message, string parameter) : ArgumentException(message, parameter);

/// <summary>
/// Reads a line's decision log (the Parquet parts of <see cref="LineDecisionLogGrain"/>) a page at a time. A page costs
/// one listing per day of the window it walks, from the log's first day to the window's end or a little past now (a day
/// without decisions: one empty listing), and the reads of the parts that
/// hold its rows, plus at most the next part to know whether more follow: O(page), not O(log). Decisions the log grain
/// still buffers are merged in when the caller passes the grain (<see cref="ILineDecisionLogGrain.Buffered"/>), each at
/// the part and row its flush writes it to: a page, and its continuation token, are the same before and after that flush,
/// and reading writes nothing. A closed hour's parts are merged into one compacted part (<see cref="LineDecisionCompactor"/>)
/// that holds their rows in log order and names them: the parts it replaces are ignored while they are still listed, and a
/// token into one of them goes on at the same row of the compacted part, so pages and tokens read the same before and
/// after a compaction too. A compacted part is read seekable: a page fetches its footer and the row groups it decodes, not the
/// hour's part, and does not decode the groups whose range of <c>decided_at</c> lies outside its window.
/// </summary>
public static partial class LineDecisionLog
{
    /// <summary>
    /// The stored decisions of the line under <paramref name="prefix"/> (its parts alone: what a store without a running
    /// log grain holds) decided in [<paramref name="since"/>, <paramref name="until"/>), as the other overload pages them.
    /// </summary>
    /// <exception cref="InvalidLineDecisionQueryException">The window is empty, the limit is below 1, or the token is not one of this log's.</exception>
    public static Task<LineDecisionSlice> PageAsync(
        IBlobStore store, string prefix, DateTimeOffset? since, DateTimeOffset? until, int limit, string? continuation, CancellationToken cancellationToken) =>
        PageAsync(store, null, prefix, since, until, limit, continuation, cancellationToken);

    /// <summary>
    /// The decisions of the line under <paramref name="prefix"/> decided in [<paramref name="since"/>, <paramref name="until"/>)
    /// (either bound may be null), at most <paramref name="limit"/>, starting where <paramref name="continuation"/> (a
    /// previous page's <see cref="LineDecisionSlice.Next"/>, with the same window) says: those of its parts and, given
    /// the line's log grain <paramref name="log"/>, those it buffers.
    /// </summary>
    /// <exception cref="InvalidLineDecisionQueryException">The window is empty, the limit is below 1, or the token is not one of this log's.</exception>
    public static async Task<LineDecisionSlice> PageAsync(
        IBlobStore store, ILineDecisionLogGrain? log, string prefix, DateTimeOffset? since, DateTimeOffset? until, int limit, string? continuation,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        if (limit < 1)
        {
            throw new InvalidLineDecisionQueryException($"limit is {limit}; ask for 1 or more decisions.", "limit");
        }
        if (since is { } from && until is { } to && to <= from)
        {
            throw new InvalidLineDecisionQueryException($"until ({to:O}) is not after since ({from:O}); the window holds no decision.", "until");
        }
        var parsed = continuation is null ? null : Cursor.Parse(continuation);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await PageOnceAsync(store, log, prefix, since, until, limit, parsed, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobNotFoundException) when (attempt < 3)
            {
                // A part listed and gone when read: its hour was compacted in between (the compacted part is written before
                // the parts it replaces are deleted, so the next listing shows it). The page is read again from its start.
            }
        }
    }

    /// <summary>One reading of the page <see cref="PageAsync(IBlobStore, ILineDecisionLogGrain?, string, DateTimeOffset?, DateTimeOffset?, int, string?, CancellationToken)"/> answers.</summary>
    /// <exception cref="BlobNotFoundException">A part listed was gone when read.</exception>
    private static async Task<LineDecisionSlice> PageOnceAsync(
        IBlobStore store, ILineDecisionLogGrain? log, string prefix, DateTimeOffset? since, DateTimeOffset? until, int limit, Cursor? cursor,
        CancellationToken cancellationToken)
    {
        var root = LineBlobNames.Decisions(prefix);
        // The buffer before the parts: a flush in between leaves a batch in both (its part is read and the buffer's rows
        // of that part are skipped), never in neither. A page takes at most limit + 1 of them (the last: whether more follow).
        var buffered = await BufferedAsync(log, root, new LineBufferedDecisionQuery(
            since, until, cursor is null ? null : root + cursor.Part, cursor?.Row ?? 0, limit == int.MaxValue ? limit : limit + 1)).ConfigureAwait(false);
        DateTime? first = buffered.Count > 0 ? HourOfPart(buffered.Keys[0]) : null;
        await foreach (var entry in store.ListAsync(root, cancellationToken).ConfigureAwait(false))
        {
            if (HourOfPart(entry.Name[root.Length..]) is { } stored && (first is null || stored < first))
            {
                first = stored;
            }
            break;
        }
        if (first is not { } firstHour)
        {
            return new LineDecisionSlice([], null);
        }
        if (until is { } before && before.UtcDateTime <= firstHour)
        {
            return new LineDecisionSlice([], null);
        }
        var start = new[] { firstHour, cursor?.Hour ?? DateTime.MinValue, since is { } s ? Floor(s.UtcDateTime) : DateTime.MinValue }.Max();
        // No part is dated later than a little past now (a silo's clock may run ahead of this one), so the walk, a listing
        // per day, ends there: an `until` years ahead would otherwise list every day up to it.
        var latest = Floor(DateTime.UtcNow).AddHours(2);
        var end = until is { } u && u.UtcDateTime <= latest ? Floor(u.UtcDateTime.AddTicks(-1)) : latest;
        var page = new List<LineDecision>(Math.Min(limit, 1024));
        // Per hour, the parts its compacted part replaces (LineDecisionCompactor): listed after it, until their deletion.
        var replacedOfHour = new Dictionary<DateTime, CompactedPartManifest>();
        for (var day = start.Date; day <= end.Date; day = day.AddDays(1))
        {
            var dayFolder = day.ToString("'date='yyyy-MM-dd'/'", CultureInfo.InvariantCulture);
            await foreach (var (part, isStored) in PartsOfDayAsync(store, root, dayFolder, buffered, cancellationToken).ConfigureAwait(false))
            {
                if (HourOfPart(part) is not { } hour || hour < start || hour > end
                    || (replacedOfHour.TryGetValue(hour, out var replaced) && replaced.Covers(part)))
                {
                    continue;
                }
                var compacted = isStored && LineBlobNames.IsCompactedDecisionPart(part);
                LineDecisionPartFile? file = null;
                if (cursor is not null && string.CompareOrdinal(part, cursor.Part) < 0)
                {
                    // A compacted part before the token's part in its hour: the token may be one given before the compaction,
                    // into a part it replaced; it then goes on at that row of the compacted part. (A compacted part sorts
                    // before every part it replaces, so no other is before the token.)
                    if (!compacted || hour != cursor.Hour || LineBlobNames.IsCompactedDecisionPart(cursor.Part))
                    {
                        continue;
                    }
                    file = await LineDecisionPartFile.OpenAsync(store, root + part, cancellationToken).ConfigureAwait(false);
                    var manifest = replacedOfHour[hour] = file.Manifest(part)!;
                    if (manifest.OffsetOf(cursor.Part) is not { } offset)
                    {
                        await file.DisposeAsync().ConfigureAwait(false);
                        continue;
                    }
                    cursor = new Cursor(part, offset + cursor.Row);
                }
                if (isStored && file is null)
                {
                    file = await LineDecisionPartFile.OpenAsync(store, root + part, cancellationToken).ConfigureAwait(false);
                    if (compacted)
                    {
                        replacedOfHour[hour] = file.Manifest(part)!;
                    }
                }
                await using (file)
                {
                    var fromRow = cursor is not null && part == cursor.Part ? cursor.Row : 0;
                    await foreach (var (r, decision) in RowsOfPartAsync(file, buffered.GetValueOrDefault(part), fromRow, since, until, cancellationToken).ConfigureAwait(false))
                    {
                        if ((since is { } lower && decision.DecidedAt < lower) || (until is { } upper && decision.DecidedAt >= upper))
                        {
                            continue;
                        }
                        if (page.Count == limit)
                        {
                            return new LineDecisionSlice(page, new Cursor(part, r).ToToken());
                        }
                        page.Add(decision);
                    }
                }
            }
        }
        return new LineDecisionSlice(page, null);
    }

    /// <summary>
    /// A part's rows from row <paramref name="from"/> on: the stored part's (<paramref name="file"/>, null when it is only
    /// buffered), decoded a row group at a time as the page needs them (a group whose range of decided_at the part states
    /// lies outside the window [<paramref name="since"/>, <paramref name="until"/>) not at all), then the buffered rows of
    /// its name after them.
    /// A buffered part of a stored part's name: the flush wrote it after the buffer was read (the stored part holds the rows
    /// read from the buffer, and maybe more), or a write whose answer was lost wrote its first rows (the buffer's further
    /// rows follow them).
    /// </summary>
    private static async IAsyncEnumerable<(int Row, LineDecision Decision)> RowsOfPartAsync(
        LineDecisionPartFile? file, List<(int Row, LineDecision Decision)>? fromBuffer, int from, DateTimeOffset? since, DateTimeOffset? until,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (file is not null)
        {
            await foreach (var row in file.RowsFromAsync(from, since, until, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
            from = Math.Max(from, file.RowCount);
        }
        foreach (var row in fromBuffer ?? [])
        {
            if (row.Row >= from)
            {
                yield return row;
            }
        }
    }

    /// <summary>The log grain's buffered decisions that <paramref name="query"/> asks for, by part (its path under <c>decisions/</c>), in log order.</summary>
    private static async Task<SortedList<string, List<(int Row, LineDecision Decision)>>> BufferedAsync(ILineDecisionLogGrain? log, string root, LineBufferedDecisionQuery query)
    {
        var parts = new SortedList<string, List<(int Row, LineDecision Decision)>>(StringComparer.Ordinal);
        if (log is null)
        {
            return parts;
        }
        foreach (var row in await log.Buffered(query).ConfigureAwait(false))
        {
            if (!row.Part.StartsWith(root, StringComparison.Ordinal) || HourOfPart(row.Part[root.Length..]) is null)
            {
                continue;
            }
            var part = row.Part[root.Length..];
            if (!parts.TryGetValue(part, out var rows))
            {
                parts[part] = rows = [];
            }
            rows.Add((row.Row, LineImageDecider.ParseLogged(row.Json)));
        }
        return parts;
    }

    /// <summary>
    /// The parts of one day folder (paths under <c>decisions/</c>) in ordinal order: the stored ones as listed, merged with
    /// the buffered ones (<paramref name="buffered"/>) of that day; a name in both comes once, as stored.
    /// </summary>
    private static async IAsyncEnumerable<(string Part, bool IsStored)> PartsOfDayAsync(
        IBlobStore store, string root, string dayFolder, SortedList<string, List<(int Row, LineDecision Decision)>> buffered,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var bufferedOfDay = new Queue<string>(buffered.Keys.Where(part => part.StartsWith(dayFolder, StringComparison.Ordinal)));
        await foreach (var entry in store.ListAsync(root + dayFolder, cancellationToken).ConfigureAwait(false))
        {
            var part = entry.Name[root.Length..];
            while (bufferedOfDay.TryPeek(out var earlier) && string.CompareOrdinal(earlier, part) <= 0)
            {
                bufferedOfDay.Dequeue();
                if (earlier != part)
                {
                    yield return (earlier, false);
                }
            }
            yield return (part, true);
        }
        while (bufferedOfDay.TryDequeue(out var later))
        {
            yield return (later, false);
        }
    }

    private static DateTime Floor(DateTime utc) => new(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc);

    /// <summary>The hour of a part's path under <c>decisions/</c>, or null for a blob that is not a part.</summary>
    internal static DateTime? HourOfPart(string part)
    {
        var match = PartPath().Match(part);
        return match.Success && DateTime.TryParseExact(match.Groups["day"].Value + match.Groups["hour"].Value, "yyyy-MM-ddHH",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var hour)
            ? hour
            : null;
    }

    [GeneratedRegex(@"^date=(?<day>\d{4}-\d{2}-\d{2})/hour=(?<hour>\d{2})/part-[0-9A-Za-z_-]{1,100}\.parquet\z", RegexOptions.CultureInvariant)]
    private static partial Regex PartPath();

    /// <summary>A position in the log: a part (its path under <c>decisions/</c>) and a row in it; its token is base64url.</summary>
    private sealed record Cursor(string Part, int Row)
    {
        public DateTime Hour => HourOfPart(Part)!.Value;

        public string ToToken() => Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Part}|{Row}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static Cursor Parse(string token)
        {
            var invalid = new InvalidLineDecisionQueryException(
                $"continuation '{(token.Length > 80 ? token[..80] + "..." : token)}' is not a token this log gave; pass the 'next' of the previous page unchanged.", "continuation");
            string text;
            try
            {
                var base64 = token.Replace('-', '+').Replace('_', '/');
                text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
            }
            catch (FormatException)
            {
                throw invalid;
            }
            var bar = text.LastIndexOf('|');
            if (bar < 0 || HourOfPart(text[..bar]) is null
                || !int.TryParse(text[(bar + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var row))
            {
                throw invalid;
            }
            return new Cursor(text[..bar], row);
        }
    }
}
