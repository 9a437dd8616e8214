using System.Collections.Concurrent;
using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Compaction of a line's decision log: a closed hour's parts (one per flush, up to 120 an hour) become one compacted part
/// with the same rows in the same order, written before the small parts are deleted; pages and continuation tokens read the
/// same before, during (both there) and after it; an hour still open, or still buffered by the log, is left alone.
/// </summary>
public sealed class LineDecisionCompactionTests
{
    /// <summary>An hour three hours ago: closed under the default grace (an hour after its end).</summary>
    internal static readonly DateTimeOffset Closed = HourOf(DateTimeOffset.UtcNow).AddHours(-3);

    [Fact]
    public async Task TheLogGrainCompactsAClosedHourOnItsTimerAndLeavesTheOpenHour()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-grain")));
        var prefix = $"lines/_/compact-grain-{Guid.NewGuid():N}/";
        var open = HourOf(DateTimeOffset.UtcNow);
        // What a busy hour's flushes leave: many small parts; and the hour now, open, with parts of its own.
        var closedRows = await WritePartsAsync(store, prefix, Closed, parts: 24, rowsPerPart: 3);
        var openRows = await WritePartsAsync(store, prefix, open, parts: 3, rowsPerPart: 2);
        var before = await WalkAsync(store, prefix, 7);
        Assert.Equal(closedRows.Concat(openRows).Select(d => d.ImageId), before.SelectMany(page => page.Ids));

        await using var cluster = await OneSiloCluster.StartAsync(store, services => services.Configure<CoordinatorOptions>(
            options => options.DecisionLogFlushInterval = TimeSpan.FromMilliseconds(100)));
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        await log.Flush();

        var closedFolder = LineBlobNames.DecisionHourFolder(prefix, Closed);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while ((await NamesAsync(store, closedFolder)).Count != 1)
        {
            await Task.Delay(25, timeout.Token);
        }
        // A later tick has looked at the log again (it lists the closed hour's day first), and has ended: a grain call
        // waits for the timer's turn.
        var listed = store.ListingsOf(DayFolder(prefix, Closed));
        while (store.ListingsOf(DayFolder(prefix, Closed)) == listed)
        {
            await Task.Delay(25, timeout.Token);
        }
        await log.Flush();

        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, closedFolder))));
        Assert.Equal(3, (await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, open))).Count);
        var after = await WalkAsync(store, prefix, 7);
        Assert.Equal(before.Select(page => page.Ids), after.Select(page => page.Ids));
        Assert.Equal(closedRows.Concat(openRows).Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));
    }

    [Fact]
    public async Task AClosedHoursPartsBecomeOnePartAndPagesAndTokensTakenBeforeReadTheSameAfter()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-tokens")));
        var prefix = $"lines/_/compact-tokens-{Guid.NewGuid():N}/";
        // 30 parts of 5 rows (a part's rows in journal order, not by time), and the next hour's two parts after them.
        var rows = await WritePartsAsync(store, prefix, Closed, parts: 30, rowsPerPart: 5);
        rows.AddRange(await WritePartsAsync(store, prefix, Closed.AddHours(1), parts: 2, rowsPerPart: 4));
        (DateTimeOffset?, DateTimeOffset?)[] windows = [(null, null), (Closed.AddMinutes(7), Closed.AddMinutes(61)), (null, Closed.AddMinutes(20))];
        int[] limits = [1, 4, 7, 1000];
        var before = new List<List<Page>>();
        foreach (var (since, until) in windows)
        {
            foreach (var limit in limits)
            {
                before.Add(await WalkAsync(store, prefix, limit, since, until));
            }
        }
        Assert.Equal(rows.Select(d => d.ImageId), before[3].SelectMany(page => page.Ids));

        // Row groups of 16 rows: a page, and a token, in the middle of a group and across groups.
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance, rowGroupRows: 16);
        Assert.Equal(Closed, await compactor.CompactNextAsync(Closed.AddHours(1), _ => false, cancel));
        Assert.Equal(Closed.AddHours(1), await compactor.CompactNextAsync(Closed.AddHours(1), _ => false, cancel));

        var compacted = Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, Closed)));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(compacted));
        // The same rows, every field, in the same order; in row groups a page decodes one at a time.
        var stored = await LineDecisionParquet.ReadAsync(store, compacted, cancel);
        Assert.Equal(rows.Take(150).Select(Json), stored.Select(Json));
        Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, Closed.AddHours(1))));
        // Done: again, nothing changes.
        Assert.Null(await compactor.CompactNextAsync(Closed.AddHours(1), _ => false, cancel));
        Assert.Null(await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(Closed.AddHours(1), _ => false, cancel));

        await AssertReadsAsBeforeAsync(store, prefix, windows, limits, before);
    }

    [Fact]
    public async Task ACompactedPartBesideThePartsItReplacesIsReadOnceAndTheNextCompactionDeletesThem()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-crash")));
        var prefix = $"lines/_/compact-crash-{Guid.NewGuid():N}/";
        var rows = await WritePartsAsync(store, prefix, Closed, parts: 12, rowsPerPart: 4);
        rows.AddRange(await WritePartsAsync(store, prefix, Closed.AddHours(1), parts: 1, rowsPerPart: 3));
        (DateTimeOffset?, DateTimeOffset?)[] windows = [(null, null), (Closed.AddMinutes(5), null)];
        int[] limits = [1, 5, 1000];
        var before = new List<List<Page>>();
        foreach (var (since, until) in windows)
        {
            foreach (var limit in limits)
            {
                before.Add(await WalkAsync(store, prefix, limit, since, until));
            }
        }
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance);
        var hourFolder = LineBlobNames.DecisionHourFolder(prefix, Closed);

        // The store away while the compacted part is written: nothing changes, and the call says so.
        store.FailPutsUnder = hourFolder;
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => compactor.CompactNextAsync(Closed.AddHours(1), _ => false, cancel));
        Assert.Equal(12, (await NamesAsync(store, hourFolder)).Count);
        store.FailPutsUnder = null;

        // Written, but every delete fails (a crash between the two, as readers see it): the compacted part and the 12 it replaces.
        store.FailDeletesUnder = hourFolder;
        Assert.Equal(Closed, await compactor.CompactNextAsync(Closed.AddHours(1), _ => false, cancel));
        Assert.Equal(13, (await NamesAsync(store, hourFolder)).Count);
        await AssertReadsAsBeforeAsync(store, prefix, windows, limits, before);
        Assert.Equal(rows.Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));

        // The store back: the next call (a new activation's, too) deletes what the compacted part replaces, and only that.
        store.FailDeletesUnder = null;
        Assert.Equal(Closed, await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(Closed.AddHours(1), _ => false, cancel));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, hourFolder))));
        await AssertReadsAsBeforeAsync(store, prefix, windows, limits, before);
    }

    [Fact]
    public async Task AnHourNotClosedOrStillHeldByTheLogIsNotCompacted()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-open")));
        var prefix = $"lines/_/compact-open-{Guid.NewGuid():N}/";
        await WritePartsAsync(store, prefix, Closed, parts: 5, rowsPerPart: 2);
        var hourFolder = LineBlobNames.DecisionHourFolder(prefix, Closed);
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance);

        // The last closed hour is the one before: the hour is open.
        Assert.Null(await compactor.CompactNextAsync(Closed.AddHours(-1), _ => false, cancel));
        Assert.Equal(5, (await NamesAsync(store, hourFolder)).Count);
        // Closed, but the log still buffers rows of it (a flush of the hour may still come).
        Assert.Null(await compactor.CompactNextAsync(Closed, hour => hour == Closed, cancel));
        Assert.Equal(5, (await NamesAsync(store, hourFolder)).Count);

        Assert.Equal(Closed, await compactor.CompactNextAsync(Closed, _ => false, cancel));
        Assert.Single(await NamesAsync(store, hourFolder));
    }

    [Fact]
    public async Task APageWhoseHourIsCompactedBetweenItsListingAndItsReadsReadsTheCompactedPart()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-race")));
        var prefix = $"lines/_/compact-race-{Guid.NewGuid():N}/";
        await WritePartsAsync(store, prefix, Closed, parts: 6, rowsPerPart: 3);
        var before = await WalkAsync(store, prefix, 4);
        var hourFolder = LineBlobNames.DecisionHourFolder(prefix, Closed);
        var parts = await NamesAsync(store, hourFolder);
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance);
        // The page has listed the hour's parts; before it reads the second (a token's part), the hour is compacted.
        store.BeforeRead = async name =>
        {
            if (name == parts[1])
            {
                store.BeforeRead = null;
                Assert.Equal(Closed, await compactor.CompactNextAsync(Closed, _ => false, cancel));
            }
        };

        var page = await LineDecisionLog.PageAsync(store, prefix, null, null, 4, before[0].Next, cancel);

        Assert.Null(store.BeforeRead);
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, hourFolder))));
        Assert.Equal(before[1].Ids, page.Decisions.Select(d => d.ImageId));
    }

    [Fact]
    public async Task HoursClosedAfterAnIdleGapInTheSameDayAreCompactedToo()
    {
        // A line idle past the grace (a break between shifts) with its log grain kept alive: the compactor found no hour
        // after the last closed one in today's folder and moved on to tomorrow, so the rest of the day's hours were never
        // compacted by that activation.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-gap")));
        var prefix = $"lines/_/compact-gap-{Guid.NewGuid():N}/";
        var morning = new DateTimeOffset(2026, 11, 10, 8, 0, 0, TimeSpan.Zero);
        var afternoon = morning.AddHours(6);
        await WritePartsAsync(store, prefix, morning, parts: 4, rowsPerPart: 2);
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance);
        Assert.Equal(morning, await compactor.CompactNextAsync(morning, _ => false, cancel));
        // The ticks of the idle hours: nothing to do.
        Assert.Null(await compactor.CompactNextAsync(morning.AddHours(2), _ => false, cancel));

        await WritePartsAsync(store, prefix, afternoon, parts: 5, rowsPerPart: 2);
        Assert.Equal(afternoon, await compactor.CompactNextAsync(afternoon, _ => false, cancel));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, afternoon)))));
    }

    [Fact]
    public async Task ACompactedPartWrittenAfterTheLinesDeletionListedItsFolderIsDeletedWhenTheLogIsTold()
    {
        // DELETE /lines/{name} lists the line's blobs and deletes them; a log activation made meanwhile (a reader) may
        // compact an hour it read before, and its compacted part, written after the listing, brought the deleted line's
        // decisions back for a line made again under the name.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-deleted")));
        var gone = $"lines/_/compact-deleted-{Guid.NewGuid():N}/";
        var kept = $"lines/_/compact-kept-{Guid.NewGuid():N}/";
        foreach (var prefix in new[] { gone, kept })
        {
            await WritePartsAsync(store, prefix, Closed, parts: 3, rowsPerPart: 2);
            Assert.Equal(Closed, await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(Closed, _ => false, cancel));
        }
        // The kept line has a catalog (made again under its name, or never deleted): its log stays.
        await new LineCatalogStore(store).AddAsync(kept, version => new LineCatalog("rolls", version, new CatalogSource("built-in", "test", null, "average"), null,
            AssignmentRuleSettings.Default, 2, [new CatalogCluster("crack", 5, [0f, 0f], 1.0)]), cancel);
        await using var cluster = await OneSiloCluster.StartAsync(store);

        await cluster.Client.GetGrain<ILineDecisionLogGrain>(gone).LineDeleted();
        await cluster.Client.GetGrain<ILineDecisionLogGrain>(kept).LineDeleted();

        Assert.Empty(await NamesAsync(store, LineBlobNames.Decisions(gone)));
        Assert.Single(await NamesAsync(store, LineBlobNames.Decisions(kept)));
    }

    [Fact]
    public async Task APageInACompactedHourReadsTheRowGroupsItDecodesNotThePart()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new ByteCountingStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-seek")));
        var prefix = $"lines/_/compact-seek-{Guid.NewGuid():N}/";
        var rows = await WritePartsAsync(store, prefix, Closed, parts: 40, rowsPerPart: 500);
        // 20,000 rows in 20 row groups of 1,000: a page of 100 rows decodes one or two.
        Assert.Equal(Closed, await new LineDecisionCompactor(store, prefix, NullLogger.Instance, rowGroupRows: 1000).CompactNextAsync(Closed, _ => false, cancel));
        var compacted = Assert.Single(await EntriesAsync(store, LineBlobNames.DecisionHourFolder(prefix, Closed)));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(compacted.Name));
        var middle = await LineDecisionLog.PageAsync(store, prefix, Closed.AddMinutes(30), null, 1, null, cancel);
        store.BytesRead = 0;

        var page = await LineDecisionLog.PageAsync(store, prefix, Closed.AddMinutes(30), null, 100, middle.Next, cancel);

        Assert.Equal(100, page.Decisions.Count);
        Assert.Equal(rows.Where(d => d.DecidedAt >= Closed.AddMinutes(30)).Skip(1).Take(100).Select(Json), page.Decisions.Select(Json));
        // The footer and a row group or two of 20, not the part: with the part read whole, this is its size.
        Assert.InRange(store.BytesRead, 1, compacted.Size / 4);
    }

    [Fact]
    public async Task APageFromSinceInACompactedHourSkipsTheRowGroupsBeforeItUndecoded()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new ByteCountingStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-since")));
        var prefix = $"lines/_/compact-since-{Guid.NewGuid():N}/";
        // 40 parts of 500 rows, each part's rows within 5 s (in journal order, not by time) and the parts 88 s apart: row
        // groups of 1,000 rows whose decided_at rise from group to group. 56 minutes in is the last group, its 39th part.
        var rows = await WritePartsAsync(store, prefix, Closed, parts: 40, rowsPerPart: 500, rowStep: TimeSpan.FromMilliseconds(10));
        var since = Closed.AddMinutes(56);
        (DateTimeOffset?, DateTimeOffset?)[] windows = [(since, null), (Closed.AddMinutes(30), Closed.AddMinutes(32)), (null, Closed.AddMinutes(2))];
        int[] limits = [100, 1000];
        var before = new List<List<Page>>();
        foreach (var (from, until) in windows)
        {
            foreach (var limit in limits)
            {
                before.Add(await WalkAsync(store, prefix, limit, from, until));
            }
        }
        Assert.Equal(rows.Where(d => d.DecidedAt >= since).Select(d => d.ImageId), before[0].SelectMany(page => page.Ids));
        Assert.Equal(Closed, await new LineDecisionCompactor(store, prefix, NullLogger.Instance, rowGroupRows: 1000).CompactNextAsync(Closed, _ => false, cancel));
        var compacted = Assert.Single(await EntriesAsync(store, LineBlobNames.DecisionHourFolder(prefix, Closed)));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(compacted.Name));
        store.BytesRead = 0;

        var page = await LineDecisionLog.PageAsync(store, prefix, since, null, 100, null, cancel);

        // The footer and the last of 20 row groups, not the 19 before it: decoding them reads nearly the whole part.
        Assert.InRange(store.BytesRead, 1, compacted.Size / 4);
        Assert.Equal(rows.Where(d => d.DecidedAt >= since).Take(100).Select(Json), page.Decisions.Select(Json));
        // The token names the row of the compacted part the next page starts at, counting the rows of the groups skipped.
        var expectedNext = rows.FindIndex(d => d.ImageId == before[0][1].Ids[0]);
        Assert.Equal($"{compacted.Name[LineBlobNames.Decisions(prefix).Length..]}|{expectedNext}", TokenText(page.Next!));
        // Every window, walked and from every token given before the compaction: the same pages.
        await AssertReadsAsBeforeAsync(store, prefix, windows, limits, before);
    }

    /// <summary>What a continuation token holds: a part's path under <c>decisions/</c>, a bar and a row.</summary>
    private static string TokenText(string token)
    {
        var base64 = token.Replace('-', '+').Replace('_', '/');
        return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
    }

    [Fact]
    public async Task AnAppendIsAnsweredWhileACompactionIsHeldAtItsWrite()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(
            new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-background")), LineBlobNames.IsCompactedDecisionPart);
        var prefix = $"lines/_/compact-background-{Guid.NewGuid():N}/";
        var rows = await WritePartsAsync(store, prefix, Closed, parts: 6, rowsPerPart: 3);
        await using var cluster = await OneSiloCluster.StartAsync(store, services => services.Configure<CoordinatorOptions>(
            options => options.DecisionLogFlushInterval = TimeSpan.FromMilliseconds(100)));
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        await log.Flush();
        // The timer has started compacting the closed hour, which now waits at the store to write its compacted part.
        await store.WriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(3), cancel);

        // A decision of now, and one late in the hour being compacted: both answered, the first flushed, while the compaction waits.
        var now = Decision("now-0", DateTimeOffset.UtcNow);
        var late = Decision("late-0", Closed.AddMinutes(59));
        var stored = await log.Append([Entry(now), Entry(late)]).WaitAsync(TimeSpan.FromSeconds(20), cancel);
        Assert.Equal([Json(now), Json(late)], stored);
        await log.Flush().WaitAsync(TimeSpan.FromSeconds(20), cancel);
        Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, HourOf(now.DecidedAt))));
        Assert.Equal(6, (await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, Closed))).Count);

        store.Release();
        var hourFolder = LineBlobNames.DecisionHourFolder(prefix, Closed);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        // The compaction ends, and a later flush writes the late decision as a part of its own beside the compacted part.
        while ((await NamesAsync(store, hourFolder)) is var names && !(names.Count == 2 && names.Count(LineBlobNames.IsCompactedDecisionPart) == 1))
        {
            await Task.Delay(25, timeout.Token);
        }
        await log.Flush();
        var all = await LineDecisionLog.PageAsync(store, log, prefix, null, null, 1000, null, cancel);
        Assert.Equal(rows.Append(late).Append(now).Select(Json), all.Decisions.Select(Json));
    }

    [Fact]
    public async Task ANewActivationGoesOnFromTheMarkerNotFromTheLogsFirstDay()
    {
        // The scan position was in memory only: each new activation of the log (a deactivation, a restart, a rebalance)
        // listed the log again from its first day, four day folders a tick, before it reached an hour to compact.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-marker")));
        var prefix = $"lines/_/compact-marker-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        // Ten days with one part (nothing to compact), then a day with a busy hour.
        var rowsOfDay = new List<List<LineDecision>>();
        for (var d = 0; d < 10; d++)
        {
            rowsOfDay.Add(await WritePartsAsync(store, prefix, firstDay.AddDays(d), parts: 1, rowsPerPart: 2));
        }
        var busy = firstDay.AddDays(10);
        rowsOfDay.Add(await WritePartsAsync(store, prefix, busy, parts: 3, rowsPerPart: 2));
        var last = busy.AddHours(6);
        var first = new LineDecisionCompactor(store, prefix, NullLogger.Instance);
        var calls = 0;
        DateTimeOffset? worked;
        while ((worked = await first.CompactNextAsync(last, _ => false, cancel)) is null)
        {
            Assert.InRange(++calls, 1, 5);
        }
        Assert.Equal(busy, worked);
        // The marker is written when it moves, not at every call: calls that find nothing new leave it.
        var markerWrites = store.PutsOf(Marker(prefix));
        Assert.Null(await first.CompactNextAsync(last, _ => false, cancel));
        Assert.Null(await first.CompactNextAsync(last, _ => false, cancel));
        Assert.Equal(markerWrites, store.PutsOf(Marker(prefix)));

        // A later hour of the busy day fills up, and a decision days late lands as a second part of an hour before the marker.
        var later = busy.AddHours(2);
        var laterRows = await WritePartsAsync(store, prefix, later, parts: 4, rowsPerPart: 2);
        var lateRows = await WritePartsAsync(store, prefix, firstDay.AddDays(2).AddMinutes(30), parts: 1, rowsPerPart: 1);
        var listedBefore = Enumerable.Range(0, 10).Select(d => store.ListingsOf(DayFolder(prefix, firstDay.AddDays(d)))).ToList();

        // A new activation: its first call compacts the later hour, and lists none of the days before the marker but the
        // day of slack just before it.
        var second = new LineDecisionCompactor(store, prefix, NullLogger.Instance);
        Assert.Equal(later, await second.CompactNextAsync(last, _ => false, cancel));
        listedBefore[9]++;
        Assert.Equal(listedBefore, Enumerable.Range(0, 10).Select(d => store.ListingsOf(DayFolder(prefix, firstDay.AddDays(d)))));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, later)))));
        // The first day that may need work: the busy day (every day before it has hours of one part).
        Assert.Equal("2026-10-11", await MarkerTextAsync(store, prefix));
        // One write a call that moved it: past four days, four more, then two and the busy hour (a day of slack is no move).
        Assert.Equal(3, markerWrites);
        Assert.Equal(3, store.PutsOf(Marker(prefix)));
        // The late part is not compacted (the marker is past its day), and readers read it as any part.
        Assert.Null(await second.CompactNextAsync(last, _ => false, cancel));
        Assert.Equal(2, (await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, firstDay.AddDays(2)))).Count);
        var expected = rowsOfDay.Take(3).SelectMany(rows => rows).Concat(lateRows).Concat(rowsOfDay.Skip(3).SelectMany(rows => rows)).Concat(laterRows);
        Assert.Equal(expected.Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));
        Assert.Equal(expected.Select(d => d.ImageId), (await WalkAsync(store, prefix, 3)).SelectMany(page => page.Ids));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not a day")]
    [InlineData("2026-13-45")]
    [InlineData("")]
    [InlineData("2999-01-01")]
    [InlineData("2020-01-01")]
    public async Task AMarkerThatIsMissingOrNotToBeTrustedStartsTheScanAtTheLogsFirstDay(string? marker)
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-badmarker")));
        var prefix = $"lines/_/compact-badmarker-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        var rows = new List<LineDecision>();
        rows.AddRange(await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2));
        // The second day's hour needs compacting.
        rows.AddRange(await WritePartsAsync(store, prefix, firstDay.AddDays(1), parts: 3, rowsPerPart: 2));
        for (var d = 2; d < 6; d++)
        {
            rows.AddRange(await WritePartsAsync(store, prefix, firstDay.AddDays(d), parts: 1, rowsPerPart: 2));
        }
        if (marker is not null)
        {
            using var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(marker));
            await store.PutAsync(Marker(prefix), content, overwrite: true, cancel);
        }
        Assert.Equal(rows.Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));

        var last = firstDay.AddDays(6);
        Assert.Equal(firstDay.AddDays(1), await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(last, _ => false, cancel));

        // The scan moved past the first day: the marker now says so.
        Assert.Equal("2026-10-02", await MarkerTextAsync(store, prefix));
        Assert.Equal(rows.Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));
    }

    [Theory]
    // A day of slack: the day before the marker is looked at again (its hour has a second part), however far the log goes.
    [InlineData("2026-10-03", "2026-10-02", "2026-10-03")]
    [InlineData("2026-10-06", "2026-10-05", "2026-10-06")]
    // The last closed hour's day is trusted (the scan from the day before finds nothing to compact there).
    [InlineData("2026-10-07", null, "2026-10-07")]
    // A day after it was written under a clock ahead of this silo's: the scan starts at the log's first day.
    [InlineData("2026-10-08", "2026-10-02", "2026-10-02")]
    [InlineData("2026-10-09", "2026-10-02", "2026-10-02")]
    public async Task ANewActivationStartsADayBeforeTheMarkerAndTrustsItUpToTheLastClosedHoursDay(string marker, string? compactedDay, string markerAfter)
    {
        // The scan started at the marker's day, so an hour of the day it passed last that got a second part after (a late
        // decision, a marker written under a clock ahead) kept it forever; and it trusted a marker a day after the last
        // closed hour's day, which a silo whose clock ran ahead writes while the current day still gets parts.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-markerslack")));
        var prefix = $"lines/_/compact-markerslack-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        // A part a day, and two hours to compact: 2026-10-02 09:00 and 2026-10-05 09:00.
        for (var d = 0; d < 7; d++)
        {
            await WritePartsAsync(store, prefix, firstDay.AddDays(d), parts: d is 1 or 4 ? 2 : 1, rowsPerPart: 2);
        }
        using (var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(marker)))
        {
            await store.PutAsync(Marker(prefix), content, overwrite: true, cancel);
        }
        // The last closed hour: 2026-10-07 09:00.
        var last = firstDay.AddDays(6);

        var worked = await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(last, _ => false, cancel);

        Assert.Equal(compactedDay is null ? null : DateTimeOffset.Parse(compactedDay + "T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture), worked);
        Assert.Equal(markerAfter, await MarkerTextAsync(store, prefix));
    }

    [Fact]
    public async Task APartThatLandsInTheDayTheMarkerPassedLastIsCompactedByTheNextActivation()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-latepart")));
        var prefix = $"lines/_/compact-latepart-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 23, 0, 0, TimeSpan.Zero);
        var rows = new List<LineDecision>();
        rows.AddRange(await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2));
        rows.AddRange(await WritePartsAsync(store, prefix, firstDay.AddDays(1), parts: 1, rowsPerPart: 2));
        // 02:00 the next day: the scan passes both days, whose 23:00 hours have one part each.
        var last = firstDay.AddDays(1).AddHours(3);
        Assert.Null(await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(last, _ => false, cancel));
        Assert.Equal("2026-10-03", await MarkerTextAsync(store, prefix));

        // A decision of 23:10 on 2026-10-02 hours late: a second part of an hour the scan has passed.
        var lateHour = firstDay.AddDays(1);
        var late = await WritePartsAsync(store, prefix, lateHour.AddMinutes(10), parts: 1, rowsPerPart: 1);
        Assert.Equal(2, (await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, lateHour))).Count);

        // The log's next activation merges them.
        Assert.Equal(lateHour, await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(last, _ => false, cancel));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, lateHour)))));
        Assert.Equal(rows.Concat(late).Select(Json), (await LineDecisionLog.PageAsync(store, prefix, null, null, 1000, null, cancel)).Decisions.Select(Json));
        Assert.Equal("2026-10-03", await MarkerTextAsync(store, prefix));
    }

    [Fact]
    public async Task AMarkerWriteThatFailsLosesNothingAndIsMadeAgainByTheNextCall()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-markerfail")));
        var prefix = $"lines/_/compact-markerfail-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2);
        var busy = firstDay.AddDays(2);
        await WritePartsAsync(store, prefix, busy, parts: 3, rowsPerPart: 2);
        await WritePartsAsync(store, prefix, busy.AddHours(1), parts: 2, rowsPerPart: 2);
        var last = busy.AddHours(6);
        var compactor = new LineDecisionCompactor(store, prefix, NullLogger.Instance);

        // The marker cannot be written: the hour is compacted all the same, and the call says so.
        store.FailPutsUnder = Marker(prefix);
        Assert.Equal(busy, await compactor.CompactNextAsync(last, _ => false, cancel));
        Assert.Null(await MarkerTextAsync(store, prefix));
        store.FailPutsUnder = null;

        // The next call writes it.
        Assert.Equal(busy.AddHours(1), await compactor.CompactNextAsync(last, _ => false, cancel));
        Assert.Equal("2026-10-03", await MarkerTextAsync(store, prefix));
        Assert.True(LineBlobNames.IsCompactedDecisionPart(Assert.Single(await NamesAsync(store, LineBlobNames.DecisionHourFolder(prefix, busy)))));
    }

    [Fact]
    public async Task ACompactionStoppedAfterItsScanWritesNoMarker()
    {
        // A stop (a deactivation, the line's deletion, which deletes the marker once the stopped call has ended) must not
        // be followed by a marker write.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-stopmarker")));
        var prefix = $"lines/_/compact-stopmarker-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2);
        var busy = firstDay.AddDays(1);
        await WritePartsAsync(store, prefix, busy, parts: 3, rowsPerPart: 2);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // The scan passes the first day and compacts the busy hour; the stop comes once its last replaced part is deleted.
        var deletes = 0;
        store.AfterDelete = _ =>
        {
            if (++deletes == 3)
            {
                stop.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(busy.AddDays(2), _ => false, stop.Token));

        Assert.Equal(3, deletes);
        Assert.Equal(0, store.PutsOf(Marker(prefix)));
        Assert.Null(await MarkerTextAsync(store, prefix));
    }

    [Fact]
    public async Task AStopDuringTheMarkerWriteIsAStopNotAFailedWrite()
    {
        // A cloud store answers a cancelled request as the store being away (BlobStoreUnavailableException): the marker
        // write took that for a failed write, logged it as one, and the call went on as if it had not been stopped.
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-stopwrite")));
        var prefix = $"lines/_/compact-stopwrite-{Guid.NewGuid():N}/";
        var firstDay = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2);
        await WritePartsAsync(store, prefix, firstDay.AddDays(1), parts: 1, rowsPerPart: 2);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        store.FailPutsUnder = Marker(prefix);
        store.BeforeFailedPut = stop.Cancel;
        var logger = new RecordingLogger();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new LineDecisionCompactor(store, prefix, logger).CompactNextAsync(firstDay.AddDays(3), _ => false, stop.Token));

        Assert.Equal(1, store.PutsOf(Marker(prefix)));
        Assert.Empty(logger.Lines);
    }

    [Fact]
    public async Task TheLinesDeletionDeletesTheCompactionMarkerTheLogGrainWrote()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new FlakyStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-compact-markerdeleted")));
        var prefix = $"lines/_/compact-markerdeleted-{Guid.NewGuid():N}/";
        // Two past days with a part each: the log grain's timer moves its scan past them and writes the marker.
        var firstDay = HourOf(DateTimeOffset.UtcNow).AddDays(-3);
        await WritePartsAsync(store, prefix, firstDay, parts: 1, rowsPerPart: 2);
        await WritePartsAsync(store, prefix, firstDay.AddDays(1), parts: 1, rowsPerPart: 2);
        await using var cluster = await OneSiloCluster.StartAsync(store, services => services.Configure<CoordinatorOptions>(
            options => options.DecisionLogFlushInterval = TimeSpan.FromMilliseconds(100)));
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        await log.Flush();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while (!await store.ExistsAsync(Marker(prefix), timeout.Token))
        {
            await Task.Delay(25, timeout.Token);
        }

        // The line has no catalog: its log goes, the marker with it.
        await log.LineDeleted();

        Assert.Empty(await NamesAsync(store, LineBlobNames.Decisions(prefix)));
        Assert.False(await store.ExistsAsync(Marker(prefix), cancel));
    }

    /// <summary>The compaction marker as docs/OPERATIONS.md names it.</summary>
    private static string Marker(string prefix) => prefix + "decisions-compacted-before";

    private static async Task<string?> MarkerTextAsync(IBlobStore store, string prefix)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(await store.ReadAllBytesAsync(Marker(prefix), cancellationToken: TestContext.Current.CancellationToken));
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    private static LineDecisionEntry Entry(LineDecision decision) => new(decision.ImageId, decision.DecidedAt, Json(decision));

    /// <summary>Walks every window again and takes every token walked before from its page on: the same pages.</summary>
    private static async Task AssertReadsAsBeforeAsync(
        IBlobStore store, string prefix, (DateTimeOffset?, DateTimeOffset?)[] windows, int[] limits, List<List<Page>> before)
    {
        var w = 0;
        foreach (var (since, until) in windows)
        {
            foreach (var limit in limits)
            {
                var walk = before[w++];
                Assert.Equal(walk.Select(page => page.Ids), (await WalkAsync(store, prefix, limit, since, until)).Select(page => page.Ids));
                // A token given before the compaction goes on where it did.
                for (var p = 0; p + 1 < walk.Count; p++)
                {
                    var resumed = await LineDecisionLog.PageAsync(store, prefix, since, until, limit, walk[p].Next, TestContext.Current.CancellationToken);
                    Assert.Equal(walk[p + 1].Ids, resumed.Decisions.Select(d => d.ImageId));
                }
            }
        }
    }

    /// <summary>One page: its image ids and the token of the next.</summary>
    private sealed record Page(IReadOnlyList<string> Ids, string? Next);

    private static async Task<List<Page>> WalkAsync(IBlobStore store, string prefix, int limit, DateTimeOffset? since = null, DateTimeOffset? until = null)
    {
        var pages = new List<Page>();
        string? next = null;
        do
        {
            var page = await LineDecisionLog.PageAsync(store, prefix, since, until, limit, next, TestContext.Current.CancellationToken);
            next = page.Next;
            pages.Add(new Page([.. page.Decisions.Select(d => d.ImageId)], next));
        }
        while (next is not null);
        return pages;
    }

    /// <summary>
    /// Writes <paramref name="parts"/> parts of the hour as its flushes name them, a part's rows <paramref name="rowStep"/>
    /// apart (a second unless given); returns their rows in log order.
    /// </summary>
    internal static async Task<List<LineDecision>> WritePartsAsync(
        IBlobStore store, string prefix, DateTimeOffset hour, int parts, int rowsPerPart, TimeSpan? rowStep = null)
    {
        var step = rowStep ?? TimeSpan.FromSeconds(1);
        var logged = new List<LineDecision>();
        for (var p = 0; p < parts; p++)
        {
            var at = hour.AddMinutes(p * 59.0 / parts);
            // The part's rows in journal order: the last decided first.
            var rows = Enumerable.Range(0, rowsPerPart)
                .Select(r => Decision($"{hour:HH}-{p:D2}-{r}", at + step * (r == 0 ? rowsPerPart : r)))
                .ToList();
            using var content = new MemoryStream();
            await LineDecisionParquet.WriteAsync(rows, content, TestContext.Current.CancellationToken);
            content.Position = 0;
            await store.PutAsync(LineBlobNames.DecisionPart(prefix, hour, $"{hour:yyyyMMddHH}-{at.UtcTicks:D19}-0000test-{p:D6}"), content, overwrite: false, TestContext.Current.CancellationToken);
            logged.AddRange(rows);
        }
        return logged;
    }

    private static string DayFolder(string prefix, DateTimeOffset hour) => LineBlobNames.Decisions(prefix) + hour.UtcDateTime.ToString("'date='yyyy-MM-dd'/'", System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset HourOf(DateTimeOffset at) => new(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero);

    private static LineDecision Decision(string imageId, DateTimeOffset at) => new(
        imageId, imageId + ".png", at, 2, "crack", "assigned", "crack", 0.5, true,
        new Dictionary<string, double> { ["crack"] = 1.5, ["stain"] = 2.5 }, new Dictionary<string, double> { ["crack"] = 0.25 }, 0.2, 3.5, 0.43);

    internal static string Json(LineDecision decision) => JsonSerializer.Serialize(decision, LineImageDecider.LogJson);

    internal static async Task<List<BlobEntry>> EntriesAsync(IBlobStore store, string prefix)
    {
        var entries = new List<BlobEntry>();
        await foreach (var blob in store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            entries.Add(blob);
        }
        return entries;
    }

    private static async Task<List<string>> NamesAsync(IBlobStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    /// <summary>A blob store whose writes or deletes under a prefix fail as a store that is away does, and that counts listings by prefix and writes by name.</summary>
    private sealed class FlakyStore(IBlobStore inner) : IBlobStore
    {
        private readonly ConcurrentDictionary<string, int> _listings = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, int> _puts = new(StringComparer.Ordinal);

        public volatile string? FailPutsUnder;
        public volatile string? FailDeletesUnder;

        /// <summary>Runs after each delete (with the blob's name) while set.</summary>
        public volatile Action<string>? AfterDelete;

        /// <summary>Runs before a write that <see cref="FailPutsUnder"/> fails, as a cancelled request fails.</summary>
        public volatile Action? BeforeFailedPut;

        /// <summary>Runs before each read (with the blob's name) while set.</summary>
        public volatile Func<string, Task>? BeforeRead;

        public int ListingsOf(string prefix) => _listings.GetValueOrDefault(prefix);

        /// <summary>The writes of blob <paramref name="name"/> asked for, failed ones included.</summary>
        public int PutsOf(string name) => _puts.GetValueOrDefault(name);

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
        {
            _puts.AddOrUpdate(name, 1, (_, count) => count + 1);
            if (FailPutsUnder is { } failing && name.StartsWith(failing, StringComparison.Ordinal))
            {
                BeforeFailedPut?.Invoke();
                throw new BlobStoreUnavailableException($"the store is away (test): '{name}'", name);
            }
            return inner.PutAsync(name, content, overwrite, cancellationToken);
        }

        public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
        {
            if (BeforeRead is { } before)
            {
                await before(name);
            }
            return await inner.OpenReadAsync(name, cancellationToken);
        }

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default)
        {
            _listings.AddOrUpdate(prefix, 1, (_, count) => count + 1);
            return inner.ListAsync(prefix, cancellationToken);
        }

        public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
        {
            if (FailDeletesUnder is { } failing && name.StartsWith(failing, StringComparison.Ordinal))
            {
                throw new BlobStoreUnavailableException($"the store is away (test): '{name}'", name);
            }
            var deleted = await inner.DeleteAsync(name, cancellationToken);
            AfterDelete?.Invoke(name);
            return deleted;
        }
    }

    /// <summary>A logger that keeps the text of every entry.</summary>
    private sealed class RecordingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Lines.Enqueue(formatter(state, exception));
    }

    /// <summary>A blob store that counts the bytes read from the streams it opens (whole or seekable, passed through).</summary>
    private sealed class ByteCountingStore(IBlobStore inner) : IBlobStore
    {
        private long _bytesRead;

        public long BytesRead
        {
            get => Interlocked.Read(ref _bytesRead);
            set => Interlocked.Exchange(ref _bytesRead, value);
        }

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default) =>
            inner.PutAsync(name, content, overwrite, cancellationToken);

        public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) =>
            new CountingStream(await inner.OpenReadAsync(name, cancellationToken), this);

        public async Task<Stream> OpenSeekableReadAsync(string name, CancellationToken cancellationToken = default) =>
            new CountingStream(await inner.OpenSeekableReadAsync(name, cancellationToken), this);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

        /// <summary>A read stream that adds what it reads to its store's count.</summary>
        private sealed class CountingStream(Stream stream, ByteCountingStore store) : Stream
        {
            public override bool CanRead => true;
            public override bool CanSeek => stream.CanSeek;
            public override bool CanWrite => false;
            public override long Length => stream.Length;
            public override long Position { get => stream.Position; set => stream.Position = value; }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => stream.Seek(offset, origin);
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override int Read(byte[] buffer, int offset, int count) => Counted(stream.Read(buffer, offset, count));

            public override int Read(Span<byte> buffer) => Counted(stream.Read(buffer));

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Counted(await stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Counted(await stream.ReadAsync(buffer, cancellationToken));

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    stream.Dispose();
                }
                base.Dispose(disposing);
            }

            private int Counted(int read)
            {
                Interlocked.Add(ref store._bytesRead, read);
                return read;
            }
        }
    }
}
