using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Reading a line's decision log writes nothing: a page merges the log grain's buffered decisions with the stored parts,
/// each at the part and row its flush writes it to, so pages, windows and continuation tokens are the same before and
/// after that flush, and a batch in both a part and the buffer is read once. Before, every read flushed the buffer: a
/// dashboard polling each second wrote about 3,600 tiny parts per line and hour.
/// </summary>
public sealed class LineDecisionReadTests
{
    /// <summary>An hour two hours ago: closed, and inside the days a page walks.</summary>
    private static readonly DateTimeOffset Hour = HourOf(DateTimeOffset.UtcNow).AddHours(-2);

    [Fact]
    public async Task ReadsBetweenAppendsWriteNoPartAndSeeEveryDecision()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-reads"));
        await using var cluster = await StartAsync(store);
        var prefix = $"lines/_/polled-{Guid.NewGuid():N}/";
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        var appended = new List<LineDecision> { Decision("p-0", Hour.AddMinutes(1)), Decision("p-1", Hour.AddMinutes(2)) };
        await log.Append([.. appended.Select(Entry)]);
        await log.Flush();

        for (var batch = 1; batch <= 5; batch++)
        {
            var rows = new[] { Decision($"b{batch}-0", Hour.AddMinutes(10 * batch)), Decision($"b{batch}-1", Hour.AddMinutes(10 * batch + 1)) };
            await log.Append([.. rows.Select(Entry)]);
            appended.AddRange(rows);
            for (var poll = 0; poll < 3; poll++)
            {
                var read = await LineDecisionLog.PageAsync(store, log, prefix, null, null, 100, null, cancel);
                Assert.Equal(appended.Select(d => d.ImageId), read.Decisions.Select(d => d.ImageId));
                Assert.Null(read.Next);
            }
        }
        // An hour earlier, appended last: its buffered part comes first in log order, as its part will.
        var early = Decision("early", Hour.AddMinutes(-30));
        await log.Append([Entry(early)]);
        var all = await LineDecisionLog.PageAsync(store, log, prefix, null, null, 100, null, cancel);
        Assert.Equal(appended.Prepend(early).Select(Json), all.Decisions.Select(Json));

        // The flush the test asked for wrote the one part; the 16 reads wrote none.
        Assert.Single(await NamesAsync(store, LineBlobNames.Decisions(prefix)));
        // The stored parts alone (a reader without the grain) do not hold the buffered decisions.
        Assert.Equal(["p-0", "p-1"], (await LineDecisionLog.PageAsync(store, prefix, null, null, 100, null, cancel)).Decisions.Select(d => d.ImageId));
    }

    [Fact]
    public async Task PagesAndWindowsAcrossPartsAndBufferAreThoseOfTheFlushedLog()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-pages"));
        await using var cluster = await StartAsync(store);
        var prefix = $"lines/_/pages-{Guid.NewGuid():N}/";
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        // Two parts of the hour, then three buffered batches: two of the hour (the second decided before the first's
        // last row, which the part keeps in journal order) and one of the next hour.
        await log.Append([Entry(Decision("s1-0", Hour.AddMinutes(1))), Entry(Decision("s1-1", Hour.AddMinutes(2))), Entry(Decision("s1-2", Hour.AddMinutes(3)))]);
        await log.Flush();
        await log.Append([Entry(Decision("s2-0", Hour.AddMinutes(5))), Entry(Decision("s2-1", Hour.AddMinutes(6)))]);
        await log.Flush();
        await log.Append([Entry(Decision("u1-1", Hour.AddMinutes(12))), Entry(Decision("u1-0", Hour.AddMinutes(11))), Entry(Decision("u1-2", Hour.AddMinutes(14)))]);
        await log.Append([Entry(Decision("u2-0", Hour.AddMinutes(13))), Entry(Decision("u2-1", Hour.AddMinutes(15)))]);
        await log.Append([Entry(Decision("n-0", Hour.AddMinutes(61))), Entry(Decision("n-1", Hour.AddMinutes(62)))]);
        Assert.Equal(2, (await NamesAsync(store, LineBlobNames.Decisions(prefix))).Count);

        (DateTimeOffset?, DateTimeOffset?)[] windows = [(null, null), (Hour.AddMinutes(2), Hour.AddMinutes(61)), (Hour.AddMinutes(12), null), (null, Hour.AddMinutes(6))];
        var buffered = new List<List<(string Decisions, string? Next)>>();
        foreach (var (since, until) in windows)
        {
            foreach (var limit in new[] { 1, 2, 3, 100 })
            {
                buffered.Add(await WalkAsync(store, log, prefix, since, until, limit));
            }
        }
        Assert.Equal("s1-0 s1-1 s1-2 s2-0 s2-1 u1-0 u1-1 u1-2 u2-0 u2-1 n-0 n-1", string.Join(' ', buffered[3].Select(page => page.Decisions)));
        Assert.Equal("s1-1 s1-2 s2-0 s2-1 u1-0 u1-1 u1-2 u2-0 u2-1", string.Join(' ', buffered[7].Select(page => page.Decisions)));
        // A token into the buffer, taken before the flush.
        var intoBuffer = buffered[1][3].Next!;
        Assert.Equal(2, (await NamesAsync(store, LineBlobNames.Decisions(prefix))).Count);

        await log.Flush();
        Assert.Equal(4, (await NamesAsync(store, LineBlobNames.Decisions(prefix))).Count);
        var flushed = new List<List<(string Decisions, string? Next)>>();
        foreach (var (since, until) in windows)
        {
            foreach (var limit in new[] { 1, 2, 3, 100 })
            {
                // The stored parts alone now: what the grain answered is what its flush wrote.
                flushed.Add(await WalkAsync(store, null, prefix, since, until, limit));
            }
        }
        Assert.Equal(buffered, flushed);
        var resumed = await LineDecisionLog.PageAsync(store, log, prefix, null, null, 2, intoBuffer, cancel);
        Assert.Equal(buffered[1][4].Decisions, string.Join(' ', resumed.Decisions.Select(d => d.ImageId)));
    }

    [Fact]
    public async Task ABatchInAPartAndInTheBufferIsReadOnce()
    {
        // A part write that landed but whose answer was lost: the part holds the batch and the buffer still does.
        var cancel = TestContext.Current.CancellationToken;
        var store = new AnswerLosingStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-decision-lost")));
        await using var cluster = await StartAsync(store);
        var prefix = $"lines/_/lost-{Guid.NewGuid():N}/";
        var log = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix);
        await log.Append([Entry(Decision("l-0", Hour.AddMinutes(1))), Entry(Decision("l-1", Hour.AddMinutes(2)))]);
        store.LoseAnswersUnder = LineBlobNames.Decisions(prefix);
        await Assert.ThrowsAnyAsync<Exception>(() => log.Flush());
        store.LoseAnswersUnder = null;
        var landed = Assert.Single(await NamesAsync(store, LineBlobNames.Decisions(prefix)));
        await log.Append([Entry(Decision("l-2", Hour.AddMinutes(3)))]);

        var read = await LineDecisionLog.PageAsync(store, log, prefix, null, null, 100, null, cancel);
        Assert.Equal(["l-0", "l-1", "l-2"], read.Decisions.Select(d => d.ImageId));
        // One at a time, too: the part's rows, then the buffer's.
        Assert.Equal("l-0 l-1 l-2", string.Join(' ', (await WalkAsync(store, log, prefix, null, null, 1)).Select(page => page.Decisions)));

        // The part written behind the grain's back (a write that landed late): its rows once, the buffer's others after them.
        var prefix2 = $"lines/_/late-{Guid.NewGuid():N}/";
        var log2 = cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix2);
        var first = new[] { Decision("t-0", Hour.AddMinutes(1)), Decision("t-1", Hour.AddMinutes(2)) };
        await log2.Append([.. first.Select(Entry)]);
        var journal = Assert.Single(await NamesAsync(store, LineBlobNames.PendingDecisions(prefix2)));
        using (var part = new MemoryStream())
        {
            await LineDecisionParquet.WriteAsync(first, part, cancel);
            part.Position = 0;
            await store.PutAsync(LineBlobNames.DecisionPart(prefix2, Hour, journal[(journal.LastIndexOf('/') + 1)..].Replace(".jsonl", "", StringComparison.Ordinal)), part, cancellationToken: cancel);
        }
        await log2.Append([Entry(Decision("t-2", Hour.AddMinutes(3)))]);
        Assert.Equal("t-0 t-1 t-2", string.Join(' ', (await WalkAsync(store, log2, prefix2, null, null, 1)).Select(page => page.Decisions)));

        // And the flushes go on as before: nothing written twice.
        await log.Flush();
        await log2.Flush();
        Assert.Contains(landed, await NamesAsync(store, LineBlobNames.Decisions(prefix)));
        Assert.Equal(["l-0", "l-1", "l-2"], (await LineDecisionLog.PageAsync(store, prefix, null, null, 100, null, cancel)).Decisions.Select(d => d.ImageId));
        Assert.Equal(["t-0", "t-1", "t-2"], (await LineDecisionLog.PageAsync(store, prefix2, null, null, 100, null, cancel)).Decisions.Select(d => d.ImageId));
        Assert.Empty(await NamesAsync(store, LineBlobNames.PendingDecisions(prefix)));
    }

    /// <summary>A one-silo cluster whose decision logs flush by size or when asked, never by their clock.</summary>
    private static Task<Orleans.TestingHost.InProcessTestCluster> StartAsync(IBlobStore store) =>
        OneSiloCluster.StartAsync(store, services => services.Configure<CoordinatorOptions>(options => options.DecisionLogFlushInterval = TimeSpan.FromDays(1)));

    /// <summary>Every page of a window: its image ids (space-separated) and its continuation token.</summary>
    private static async Task<List<(string Decisions, string? Next)>> WalkAsync(
        IBlobStore store, ILineDecisionLogGrain? log, string prefix, DateTimeOffset? since, DateTimeOffset? until, int limit)
    {
        var pages = new List<(string Decisions, string? Next)>();
        string? next = null;
        do
        {
            var page = await LineDecisionLog.PageAsync(store, log, prefix, since, until, limit, next, TestContext.Current.CancellationToken);
            next = page.Next;
            pages.Add((string.Join(' ', page.Decisions.Select(d => d.ImageId)), next));
        }
        while (next is not null);
        return pages;
    }

    private static DateTimeOffset HourOf(DateTimeOffset at) => new(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero);

    private static LineDecision Decision(string imageId, DateTimeOffset at) => new(
        imageId, imageId + ".png", at, 1, "crack", "assigned", "crack", 0.5, true,
        new Dictionary<string, double> { ["crack"] = 1.5 }, new Dictionary<string, double> { ["crack"] = 0.25 }, 0.2, 3.5, 0.43);

    private static string Json(LineDecision decision) => JsonSerializer.Serialize(decision, LineImageDecider.LogJson);

    private static LineDecisionEntry Entry(LineDecision decision) => new(decision.ImageId, decision.DecidedAt, Json(decision));

    private static async Task<List<string>> NamesAsync(IBlobStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    /// <summary>A blob store whose writes under <see cref="LoseAnswersUnder"/> land and then fail, as a timed-out request whose write went through.</summary>
    private sealed class AnswerLosingStore(IBlobStore inner) : IBlobStore
    {
        public volatile string? LoseAnswersUnder;

        public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
        {
            await inner.PutAsync(name, content, overwrite, cancellationToken);
            if (LoseAnswersUnder is { } lost && name.StartsWith(lost, StringComparison.Ordinal))
            {
                throw new BlobStoreUnavailableException($"the answer to writing '{name}' was lost (test)", name);
            }
        }

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
