using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The decision log of a line: Parquet parts that hold every field of a decision, paged by window and continuation token
/// reading only the parts a page needs, and the log grain's journal, which re-logs recorded decisions after a crash
/// without logging any twice.
/// </summary>
public sealed class LineDecisionLogTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    /// <summary>Noon three days ago: a page without an end walks the days up to now, one listing each.</summary>
    private static readonly DateTimeOffset Noon = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero).AddDays(-3).AddHours(12);

    [Fact]
    public async Task APartHoldsEveryFieldOfADecisionExactly()
    {
        var decisions = new[]
        {
            Decision("a", Noon.AddTicks(1234567), "crack") with { FileName = null, AnomalyScore = null, Defective = null, NoveltyScore = null },
            Decision("b", Noon.AddMinutes(1), "novel"),
            Decision("c", Noon.AddMinutes(2), LineDecision.ErrorDecision) with { Error = new LineImageError("not-an-image", "the file is text") },
        };
        using var part = new MemoryStream();

        await LineDecisionParquet.WriteAsync(decisions, part, TestContext.Current.CancellationToken);
        part.Position = 0;
        var read = await LineDecisionParquet.ReadAsync(part, TestContext.Current.CancellationToken);

        Assert.Equal(decisions.Length, read.Count);
        for (var d = 0; d < decisions.Length; d++)
        {
            // Records compare dictionaries by reference: compare the JSON the API would answer.
            Assert.Equal(JsonSerializer.Serialize(decisions[d], LineImageDecider.LogJson), JsonSerializer.Serialize(read[d], LineImageDecider.LogJson));
        }
    }

    [Fact]
    public async Task PagesWalkTheWindowInLogOrderAndReadOnlyThePartsTheyNeed()
    {
        var store = new CountingStore(fixture.Store);
        var prefix = $"lines/_/paging-{Guid.NewGuid():N}/";
        // Three hours, two of them on one day and one the next day; 5 decisions per part, 2 parts per hour.
        var hours = new[] { Noon, Noon.AddHours(1), Noon.AddDays(1) };
        var all = new List<LineDecision>();
        foreach (var hour in hours)
        {
            for (var p = 0; p < 2; p++)
            {
                var rows = Enumerable.Range(0, 5).Select(i => Decision($"{hour:ddHH}-{p}-{i}", hour.AddMinutes(p * 10 + i), i % 2 == 0 ? "crack" : "stain")).ToList();
                using var content = new MemoryStream();
                await LineDecisionParquet.WriteAsync(rows, content, TestContext.Current.CancellationToken);
                content.Position = 0;
                await store.PutAsync(LineBlobNames.DecisionPart(prefix, hour, $"{hour:yyyyMMddHH}-{hour.AddMinutes(p * 10).UtcTicks:D19}-test-{p:D6}"), content, cancellationToken: TestContext.Current.CancellationToken);
                all.AddRange(rows);
            }
        }

        var walked = new List<LineDecision>();
        string? next = null;
        var pages = 0;
        do
        {
            store.Reads = 0;
            var slice = await LineDecisionLog.PageAsync(store, prefix, null, null, 4, next, TestContext.Current.CancellationToken);
            // A page of 4 rows from parts of 5: at most the two parts it spans.
            Assert.InRange(store.Reads, 1, 2);
            walked.AddRange(slice.Decisions);
            next = slice.Next;
            pages++;
        }
        while (next is not null);
        Assert.Equal(all.Select(d => d.ImageId), walked.Select(d => d.ImageId));
        Assert.Equal(8, pages);

        // A window: [12:05, 13:00) holds the noon hour's rows from minute 5 on; the next day's parts are never read.
        store.Reads = 0;
        var window = await LineDecisionLog.PageAsync(store, prefix, Noon.AddMinutes(5), Noon.AddHours(1), 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(all.Where(d => d.DecidedAt >= Noon.AddMinutes(5) && d.DecidedAt < Noon.AddHours(1)).Select(d => d.ImageId), window.Decisions.Select(d => d.ImageId));
        Assert.Null(window.Next);
        Assert.Equal(2, store.Reads);

        await Assert.ThrowsAsync<InvalidLineDecisionQueryException>(() => LineDecisionLog.PageAsync(store, prefix, Noon, Noon, 10, null, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidLineDecisionQueryException>(() => LineDecisionLog.PageAsync(store, prefix, null, null, 10, "bm90IGEgdG9rZW4", TestContext.Current.CancellationToken));
        Assert.Empty((await LineDecisionLog.PageAsync(store, "lines/_/no-such-line/", null, null, 10, null, TestContext.Current.CancellationToken)).Decisions);
    }

    [Fact]
    public async Task AWindowEndingFarAheadOrAtTheStartOfTimeWalksOnlyTheLogsDays()
    {
        // Before, `until` = 9999-12-31 listed one day folder per day up to it (millions of listings) and then overflowed,
        // and `until` = 0001-01-01 overflowed at once: a 500 for the API.
        var store = new CountingStore(fixture.Store);
        var prefix = $"lines/_/far-{Guid.NewGuid():N}/";
        var rows = new[] { Decision("far-1", Noon, "crack"), Decision("far-2", Noon.AddMinutes(1), "stain") };
        using (var content = new MemoryStream())
        {
            await LineDecisionParquet.WriteAsync(rows, content, TestContext.Current.CancellationToken);
            content.Position = 0;
            await store.PutAsync(LineBlobNames.DecisionPart(prefix, Noon, $"{Noon:yyyyMMddHH}-{Noon.UtcTicks:D19}-test-000000"), content, cancellationToken: TestContext.Current.CancellationToken);
        }

        var all = await LineDecisionLog.PageAsync(store, prefix, null, DateTimeOffset.MaxValue, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(["far-1", "far-2"], all.Decisions.Select(d => d.ImageId));
        // The first-part listing and one per day from Noon's day to a little past now (Noon is three days ago).
        Assert.InRange(store.Listings, 2, 7);
        var none = await LineDecisionLog.PageAsync(store, prefix, null, DateTimeOffset.MinValue, 100, null, TestContext.Current.CancellationToken);
        Assert.Empty(none.Decisions);
        var fromFarAhead = await LineDecisionLog.PageAsync(store, prefix, DateTimeOffset.MaxValue.AddDays(-1), null, 100, null, TestContext.Current.CancellationToken);
        Assert.Empty(fromFarAhead.Decisions);
    }

    [Fact]
    public async Task TheGrainBuffersIntoPartsAndAnswersRepeatsWithTheFirstDecision()
    {
        var prefix = $"lines/_/buffer-{Guid.NewGuid():N}/";
        var log = fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        var first = Decision("img-1", DateTimeOffset.UtcNow, "crack");
        var stored = await log.Append([Entry(first), Entry(Decision("img-2", DateTimeOffset.UtcNow, "stain"))]);
        var repeated = await log.Append([Entry(Decision("img-1", DateTimeOffset.UtcNow.AddSeconds(1), "stain"))]);

        Assert.Equal(stored[0], Assert.Single(repeated));
        // Nothing written as a part yet (buffered), every decision journalled and recorded.
        Assert.Empty(await NamesAsync(LineBlobNames.Decisions(prefix)));
        Assert.NotEmpty(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        await log.Flush();
        Assert.Empty(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(["img-1", "img-2"], logged.Decisions.Select(d => d.ImageId).Order(StringComparer.Ordinal));
        Assert.Equal("crack", logged.Decisions.Single(d => d.ImageId == "img-1").Decision);
    }

    [Fact]
    public async Task BatchesOfADeletedLineAreNeverWrittenAsParts()
    {
        var prefix = $"lines/_/deleted-{Guid.NewGuid():N}/";
        var log = fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        await log.Append([Entry(Decision("d-1", DateTimeOffset.UtcNow, "crack"))]);
        // The line's folder deleted behind the log's back (a deletion that did not reach the log first, or a batch logged
        // while the deletion ran): the buffered batch lost its journal, so it is the deleted line's and is dropped.
        await fixture.Store.DeletePrefixAsync(prefix, TestContext.Current.CancellationToken);
        await log.Append([Entry(Decision("d-2", DateTimeOffset.UtcNow, "stain"))]);
        await log.Flush();
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(["d-2"], logged.Decisions.Select(d => d.ImageId));

        // Discarded, then the folder deleted (what DELETE /lines/{name} does): nothing of the line is written again.
        await log.Append([Entry(Decision("d-3", DateTimeOffset.UtcNow, "crack"))]);
        await log.Discard();
        await fixture.Store.DeletePrefixAsync(prefix, TestContext.Current.CancellationToken);
        await log.Flush();
        Assert.Empty(await NamesAsync(prefix));
    }

    [Fact]
    public async Task APartWhoseWriteAnswerWasLostIsKeptAndLaterRowsGetAPartOfTheirOwn()
    {
        // A flush's part write landed but its answer was lost (a timeout after the write): the part exists under the name
        // the next flush gives it again. Before, every later flush failed on the existing part and the buffer grew for good.
        var prefix = $"lines/_/lost-answer-{Guid.NewGuid():N}/";
        var log = fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var landed = new[] { Decision("l-1", hour.AddSeconds(1), "crack"), Decision("l-2", hour.AddSeconds(2), "stain") };
        await log.Append(landed.Select(Entry).ToList());
        var journal = Assert.Single(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        var key = journal[(journal.LastIndexOf('/') + 1)..].Replace(".jsonl", "", StringComparison.Ordinal);
        using (var part = new MemoryStream())
        {
            await LineDecisionParquet.WriteAsync(landed, part, TestContext.Current.CancellationToken);
            part.Position = 0;
            await fixture.Store.PutAsync(LineBlobNames.DecisionPart(prefix, hour, key), part, overwrite: true, TestContext.Current.CancellationToken);
        }
        // Appended after the lost answer, before the next flush: these must reach a part too.
        var later = Decision("l-3", hour.AddSeconds(3), "crack");
        await log.Append([Entry(later)]);

        await log.Flush();

        Assert.Empty(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        Assert.Equal(2, (await NamesAsync(LineBlobNames.Decisions(prefix))).Count);
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(["l-1", "l-2", "l-3"], logged.Decisions.Select(d => d.ImageId));
        // And the log goes on: a new batch is written by the next flush.
        await log.Append([Entry(Decision("l-4", hour.AddSeconds(4), "stain"))]);
        await log.Flush();
        logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal(["l-1", "l-2", "l-3", "l-4"], logged.Decisions.Select(d => d.ImageId));
    }

    [Fact]
    public async Task AfterACrashTheJournalIsReloggedOnceAndOnlyWithRecordedDecisions()
    {
        // The state a crashed activation leaves: hour H's flush wrote its part but deleted none of its journal, and a later
        // batch whose second decision was journalled but never recorded (never answered: its caller sends it again).
        var prefix = $"lines/_/crash-{Guid.NewGuid():N}/";
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        var flushed = new[] { Decision("f-1", hour.AddMinutes(1), "crack"), Decision("f-2", hour.AddMinutes(2), "stain") };
        var firstKey = $"{hour:yyyyMMddHH}-{hour.AddMinutes(1).UtcTicks:D19}-dead0001-000000";
        using (var part = new MemoryStream())
        {
            await LineDecisionParquet.WriteAsync(flushed, part, TestContext.Current.CancellationToken);
            part.Position = 0;
            await fixture.Store.PutAsync(LineBlobNames.DecisionPart(prefix, hour, firstKey), part, cancellationToken: TestContext.Current.CancellationToken);
        }
        await PutAsync(LineBlobNames.PendingDecisions(prefix) + firstKey + ".jsonl", string.Concat(flushed.Select(d => Json(d) + "\n")));
        var later = new[] { Decision("u-1", hour.AddMinutes(40), "crack"), Decision("u-2", hour.AddMinutes(41), "stain") };
        await PutAsync(LineBlobNames.PendingDecisions(prefix) + $"{hour:yyyyMMddHH}-{hour.AddMinutes(40).UtcTicks:D19}-dead0001-000001.jsonl", Json(later[0]) + "\n" + Json(later[1]) + "\n");
        foreach (var recorded in flushed.Append(later[0]))
        {
            await PutAsync(LineBlobNames.DecisionOf(prefix, recorded.ImageId), Json(recorded));
        }

        // Activating the line's log re-logs its journal.
        await fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix).Flush();

        Assert.Empty(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        Assert.Equal(2, (await NamesAsync(LineBlobNames.Decisions(prefix))).Count);
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        // f-1 and f-2 once (their part was written before the crash), u-1 (recorded), not u-2 (never recorded).
        Assert.Equal(["f-1", "f-2", "u-1"], logged.Decisions.Select(d => d.ImageId));
        Assert.Equal(flushed.Append(later[0]).Select(Json), logged.Decisions.Select(Json));
    }

    [Fact]
    public async Task AfterACrashARealDecisionIsReloggedBesideTheSameImagesEarlierUnknownLineError()
    {
        // An intake image sent before its line existed was logged as an 'unknown-line' error (not final); sent again once
        // the line existed, it was decided in the same hour, journalled and recorded, and the activation crashed before
        // the flush. Recovery took "this image id is in a part of the hour" for "this decision is logged" and lost it.
        var prefix = $"lines/_/crash-unknown-{Guid.NewGuid():N}/";
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-2);
        var early = Decision("e-1", hour.AddMinutes(1), LineDecision.ErrorDecision) with
        {
            Error = new LineImageError(LineImageError.UnknownLine, "line 'plate' does not exist"),
        };
        var earlyKey = $"{hour:yyyyMMddHH}-{hour.AddMinutes(1).UtcTicks:D19}-dead0002-000000";
        using (var part = new MemoryStream())
        {
            await LineDecisionParquet.WriteAsync([early], part, TestContext.Current.CancellationToken);
            part.Position = 0;
            await fixture.Store.PutAsync(LineBlobNames.DecisionPart(prefix, hour, earlyKey), part, cancellationToken: TestContext.Current.CancellationToken);
        }
        var real = Decision("e-1", hour.AddMinutes(30), "crack");
        await PutAsync(LineBlobNames.PendingDecisions(prefix) + $"{hour:yyyyMMddHH}-{hour.AddMinutes(30).UtcTicks:D19}-dead0002-000001.jsonl", Json(real) + "\n");
        await PutAsync(LineBlobNames.DecisionOf(prefix, real.ImageId), Json(real));

        await fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix).Flush();

        Assert.Empty(await NamesAsync(LineBlobNames.PendingDecisions(prefix)));
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, TestContext.Current.CancellationToken);
        Assert.Equal([Json(early), Json(real)], logged.Decisions.Select(Json));
    }

    private static LineDecision Decision(string imageId, DateTimeOffset at, string decision) => new(
        imageId, imageId + ".png", at, 3, decision, decision == "novel" ? "novel" : "assigned", decision == "novel" ? "crack" : decision,
        0.75, true, new Dictionary<string, double> { ["crack"] = 1.5, ["stain"] = 2.25 }, new Dictionary<string, double> { ["crack"] = 0.5, ["stain"] = 1.125 },
        0.2, 3.5, 0.43);

    private static string Json(LineDecision decision) => JsonSerializer.Serialize(decision, LineImageDecider.LogJson);

    private static LineDecisionEntry Entry(LineDecision decision) => new(decision.ImageId, decision.DecidedAt, Json(decision));

    private async Task PutAsync(string name, string text) =>
        await fixture.Store.PutAsync(name, new MemoryStream(Encoding.UTF8.GetBytes(text)), cancellationToken: TestContext.Current.CancellationToken);

    private async Task<List<string>> NamesAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in fixture.Store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    /// <summary>A blob store that counts the blobs opened for reading.</summary>
    private sealed class CountingStore(IBlobStore inner) : IBlobStore
    {
        public int Reads;
        public int Listings;

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default) => inner.PutAsync(name, content, overwrite, cancellationToken);

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Reads);
            return inner.OpenReadAsync(name, cancellationToken);
        }

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Listings);
            return inner.ListAsync(prefix, cancellationToken);
        }

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
