using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using static AnomalyClustering.Grains.Tests.LineNovelPoolScene;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The automatic recluster of a line's novel pool runs after the addition that made it due, not inside it: the addition is
/// on the line's decision path, and a recluster of a full pool outlasts a grain call (before, the intake was answered
/// <c>unavailable</c> and queued behind it). Additions made while a recluster runs are pooled and make the next one due,
/// readers see the last completed proposals and that a recluster runs, a recluster asked for waits for the running one, and
/// a proposal named meanwhile keeps its members out of the running recluster's result. A recluster asked for that fails
/// leaves its failure under its own request id, also when the store is away. The recluster is held at the store (its
/// proposals' write, or one image's read) for as long as the test needs, with the store's signals as barriers; each test
/// starts from a <see cref="LineNovelPoolScene"/>.
/// </summary>
public sealed class LineNovelPoolReclusterTests
{
    private static readonly DateTimeOffset Earlier = DateTimeOffset.UtcNow.AddHours(-1);

    // Reclustered automatically after each third image, into two clusters.
    private static readonly NovelPoolSettings EveryThird = new(ReclusterEvery: 3, ClusterCount: 2);

    // Two near images and a far one, decided an hour ago.
    private static readonly NovelPoolImage[] ThreeImages = [Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)];

    [Fact]
    public async Task AnAddThatMakesAReclusterDueReturnsBeforeItAndTheAddsMadeMeanwhileAreReclusteredAfterIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-background", IsProposals, EveryThird);

        // The third image makes the recluster due; it stops at storing its proposals until the test lets it go on.
        await scene.Pool.Add(ThreeImages).WaitAsync(Limit, cancel);
        await scene.Store.WriteArrived.Task.WaitAsync(Limit, cancel);

        Assert.Null(await scene.NewPool().ProposalsAsync(cancel));
        // Decided after the running recluster read the pool: pooled now, clustered by the recluster they make due.
        var later = DateTimeOffset.UtcNow;
        await scene.Pool.Add([Image("near-2", later, 10.02f), Image("far-1", later.AddTicks(1), -10.01f), Image("far-2", later.AddTicks(2), -10.02f)])
            .WaitAsync(Limit, cancel);
        Assert.Equal(6, await scene.NewPool().CountAsync(cancel));
        scene.Store.Release();

        var set = await scene.ProposalsAsync(run: 2);
        Assert.Equal((2, 6, 2), (set.Run, set.PoolSize, set.Proposals.Count));
        Assert.Equal(["far-0", "far-1", "far-2", "near-0", "near-1", "near-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
        Assert.All(set.Proposals, p => Assert.Equal(3, p.Size));
    }

    [Fact]
    public async Task WhileAReclusterRunsReadsSeeTheLastCompletedOneAndAReclusterAskedForWaitsForIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var hold = false;
        await using var scene = await StartAsync("ac-pool-running", name => Volatile.Read(ref hold) && IsProposals(name), EveryThird);
        var pool = scene.Pool;
        await pool.Add(ThreeImages);
        Assert.Equal(3, (await scene.ProposalsAsync(run: 1)).PoolSize);

        Volatile.Write(ref hold, true);
        var later = DateTimeOffset.UtcNow;
        await pool.Add([Image("near-2", later, 10.02f), Image("far-1", later.AddTicks(1), -10.01f), Image("far-2", later.AddTicks(2), -10.02f)]);
        await scene.Store.WriteArrived.Task.WaitAsync(Limit, cancel);

        var running = (await pool.ReclusterStatus()).Running;
        Assert.NotNull(running);
        Assert.True(running.Automatic);
        Assert.Equal(1, (await scene.NewPool().ProposalsAsync(cancel))!.Run);
        var asked = pool.Recluster(1);
        // Pooled while both wait; a recluster that ran beside the held one would have stored run 2 as well.
        await pool.Add([Image("near-3", later.AddTicks(3), 10.03f)]).WaitAsync(Limit, cancel);
        scene.Store.Release();

        var set = await asked.WaitAsync(Limit, cancel);
        Assert.Equal((3, 7, 1), (set.Run, set.PoolSize, set.Proposals.Count));
        Assert.False(set.Automatic);
        Assert.Null((await pool.ReclusterStatus()).Running);
        Assert.Equal(3, (await scene.NewPool().ProposalsAsync(cancel))!.Run);
    }

    [Fact]
    public async Task AProposalNamedWhileAReclusterRunsIsNotProposedAgain()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-named", settings: EveryThird);
        var pool = scene.Pool;
        await pool.Add([.. Enumerable.Range(0, 4).Select(i => Image($"near-{i}", Earlier.AddSeconds(i), 10f + i * 0.01f)),
            .. Enumerable.Range(0, 2).Select(i => Image($"far-{i}", Earlier.AddSeconds(10 + i), -10f - i * 0.01f))]);
        Assert.Equal(["near-0", "near-1", "near-2", "near-3"], (await scene.ProposalsAsync(run: 1)).Proposals[0].Members);

        // The next recluster waits at one new image's read, the others read by then or soon after.
        scene.Store.HoldReads(name => name.EndsWith("-mid-2.json", StringComparison.Ordinal));
        var later = DateTimeOffset.UtcNow;
        await pool.Add([.. Enumerable.Range(0, 3).Select(i => Image($"mid-{i}", later.AddTicks(i), 0.5f + i * 0.01f))]);
        await scene.Store.ReadArrived.Task.WaitAsync(Limit, cancel);
        Assert.Equal(2, await pool.Name("p1", "dent").WaitAsync(Limit, cancel));
        scene.Store.ReleaseReads();

        var set = await scene.ProposalsAsync(run: 2);
        Assert.Equal(5, set.PoolSize);
        Assert.Equal(["far-0", "far-1", "mid-0", "mid-1", "mid-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
        Assert.Equal(5, await scene.NewPool().CountAsync(cancel));
    }

    [Fact]
    public async Task AReclusterAskedForIsAnsweredAtOnceAndItsProposalsCarryItsRequest()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-requested", IsProposals, pooled: ThreeImages);
        var pool = scene.Pool;

        // Answered while the recluster it started is held at its store: a full pool's outlasts the call.
        var first = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
        await scene.Store.WriteArrived.Task.WaitAsync(Limit, cancel);
        Assert.Equal((first.RequestId, false), ((await pool.ReclusterStatus()).Running?.RequestId, (await pool.ReclusterStatus()).Running!.Automatic));
        // The running one read the pool before: asked again, a new one waits; asked a third time, that one is joined.
        var second = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
        var third = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
        Assert.NotEqual(first.RequestId, second.RequestId);
        Assert.Equal(second, third);
        Assert.Equal([second], (await pool.ReclusterStatus()).Waiting);
        scene.Store.Release();

        var set = await scene.ProposalsAsync(run: 2);
        Assert.Equal((2, second.RequestId, 2), (set.Run, set.RequestId, set.Proposals.Count));
        await scene.ReclusterEndedAsync();
        Assert.Empty((await pool.ReclusterStatus()).Waiting);
    }

    [Fact]
    public async Task ARequestedReclusterThatFailsLeavesItsReasonWithItsRequest()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-requested-failed", pooled: TwoDimensions);
        var pool = scene.Pool;

        var request = await pool.RequestRecluster(null).WaitAsync(Limit, cancel);
        var failure = await StoredFailureAsync(scene, request);
        Assert.Equal((NovelPoolError.Conflict, false), (failure.Error, failure.Automatic));
        Assert.Contains("different dimensions", failure.Message, StringComparison.Ordinal);
        Assert.Null(await scene.NewPool().ProposalsAsync(cancel));
        // A caller that waits (Recluster) hears the same reason.
        var thrown = await Assert.ThrowsAsync<NovelPoolException>(() => pool.Recluster(null).WaitAsync(Limit, cancel));
        Assert.Equal(NovelPoolError.Conflict, thrown.Error);
        // What the caller can put right is refused at once.
        Assert.Equal(NovelPoolError.Invalid, (await Assert.ThrowsAsync<NovelPoolException>(() => pool.RequestRecluster(4).WaitAsync(Limit, cancel))).Error);
    }

    [Fact]
    public async Task TwoFailedRequestsLeaveEachItsOwnFailure()
    {
        // The second failure overwrote the first's record: a client polling for the first saw only the second's, never its own.
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-two-failed", pooled: TwoDimensions);

        var first = await scene.Pool.RequestRecluster(null).WaitAsync(Limit, cancel);
        await StoredFailureAsync(scene, first);
        var second = await scene.Pool.RequestRecluster(2).WaitAsync(Limit, cancel);
        await StoredFailureAsync(scene, second);

        // Read as the file is, newest first, each under its own request.
        Assert.Equal([second.RequestId, first.RequestId], await StoredFailureRequestsAsync(scene));
        // A silo of the previous release reads the file as one record: the newest, whole.
        using var stored = JsonDocument.Parse(await scene.Store.ReadAllBytesAsync(FailureBlob, cancellationToken: cancel));
        var asOneRecord = stored.RootElement.Deserialize<NovelReclusterFailure>(LineImageDecider.LogJson);
        Assert.Equal((await scene.Pool.ReclusterStatus()).Failures?[0], asOneRecord);
        Assert.Equal([second.RequestId, first.RequestId], (await scene.Pool.ReclusterStatus()).Failures?.Select(failure => failure.RequestId) ?? []);
    }

    [Fact]
    public async Task ARequestedReclusterThatFindsTheStoreAwayIsReportedFailedAndStoredOnceTheStoreIsBack()
    {
        // The store away when the pool was read: its failure could not be written either, so it was only logged and a
        // client polling for the request saw it vanish without proposals or failure.
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-store-away", pooled: ThreeImages);
        var pool = scene.Pool;

        // The pool's folder away (its listing answers, so the request is taken): the images' reads and the failure's write fail.
        scene.Store.GoAway(Prefix + "novel/");
        var request = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
        var deadline = DateTime.UtcNow + Limit;
        NovelReclusterFailure? failure;
        while ((failure = (await pool.ReclusterStatus()).Failures?.FirstOrDefault(f => f.RequestId == request.RequestId)) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no failure of request {request.RequestId} within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, cancel);
        }
        Assert.Equal((NovelPoolError.Unavailable, false), (failure.Error, failure.Automatic));
        Assert.Contains("blob store could not be reached", failure.Message, StringComparison.Ordinal);
        Assert.Contains("ask for the recluster again", failure.Message, StringComparison.Ordinal);
        Assert.False(await scene.Store.ExistsAsync(FailureBlob, cancel), "the store is away, yet the failure was written");

        // Back: the grain's next call (a poll) writes the record it kept.
        scene.Store.ComeBack();
        Assert.Equal(failure, await StoredFailureAsync(scene, request));
        // The copy at the top of the file, for silos of the previous release, holds an error they know.
        using var stored = JsonDocument.Parse(await scene.Store.ReadAllBytesAsync(FailureBlob, cancellationToken: cancel));
        Assert.Equal(("invalid", request.RequestId), (stored.RootElement.GetProperty("error").GetString(), stored.RootElement.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task AReclusterOfALineDeletedWhileItReadsThePoolStoresNothing()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-deleted-reading", settings: EveryThird);
        scene.Store.HoldReads(name => name.EndsWith("-far-0.json", StringComparison.Ordinal));
        await scene.Pool.Add(ThreeImages);
        await scene.Store.ReadArrived.Task.WaitAsync(Limit, cancel);

        // Its catalog is what makes a line exist: DELETE /lines/{name} deletes it last, after the pool; the images are left
        // here so that the recluster has something to store.
        await scene.Store.DeleteAsync(LineCatalogStore.CatalogBlob(Prefix, 1), cancel);
        scene.Store.ReleaseReads();
        await scene.ReclusterEndedAsync();

        Assert.Null(await scene.NewPool().ProposalsAsync(cancel));
    }

    [Fact]
    public async Task ALineDeletedWhileAReclusterStoresItsProposalsIsLeftEmptyOnceThePoolHearsOfIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-deleted-storing", IsProposals, EveryThird);
        await scene.Pool.Add(ThreeImages);
        // Past its check that the line exists: its write lands after the deletion's listing.
        await scene.Store.WriteArrived.Task.WaitAsync(Limit, cancel);

        await scene.Store.DeletePrefixAsync(Prefix, cancel);
        var told = scene.Pool.LineDeleted();
        scene.Store.Release();
        await told.WaitAsync(Limit, cancel);
        await scene.ReclusterEndedAsync();

        Assert.False(await scene.Store.AnyUnderAsync(Prefix, cancel), "the deleted line's folder holds " + string.Join(", ", await scene.ListAsync()));
    }

    [Fact]
    public async Task ImagesEvictedWhileAReclusterReadsThePoolAreReplacedByTheImagesThatEvictedThem()
    {
        // A full pool evicts its oldest image for each new one: a recluster reading beside additions found some listed
        // images gone and clustered the survivors of its listing (a pool of 4 reclustered as 1 or 2 images).
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-evicted", settings: EveryThird with { Capacity = 4 });
        scene.Store.HoldReads(name => name.EndsWith("-near-1.json", StringComparison.Ordinal));
        await scene.Pool.Add(ThreeImages);
        await scene.Store.ReadArrived.Task.WaitAsync(Limit, cancel);

        // Decided before the recluster started (so no second one becomes due), pooled after its listing: near-0 and
        // near-1 are evicted while it reads.
        await scene.Pool.Add([Image("near-2", Earlier.AddSeconds(3), 10.02f), Image("far-1", Earlier.AddSeconds(4), -10.01f), Image("far-2", Earlier.AddSeconds(5), -10.02f)])
            .WaitAsync(Limit, cancel);
        Assert.Equal(4, await scene.NewPool().CountAsync(cancel));
        scene.Store.ReleaseReads();
        await scene.ReclusterEndedAsync();

        var set = await scene.ProposalsAsync(run: 1);
        Assert.Equal(4, set.PoolSize);
        Assert.Equal(["far-0", "far-1", "far-2", "near-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ImagesAddedAfterTheLinesDeletionAreNotPooled()
    {
        // Decided just before DELETE /lines/{name} and added after it told the pool: they stayed under the deleted line's
        // folder, in the pool of a line made again under the name.
        var cancel = TestContext.Current.CancellationToken;
        await using var scene = await StartAsync("ac-pool-late-add", pooled: [Image("kept", Earlier, 10f)]);
        Assert.Equal(1, await scene.NewPool().CountAsync(cancel));

        await scene.Store.DeletePrefixAsync(Prefix, cancel);
        await scene.Pool.LineDeleted().WaitAsync(Limit, cancel);
        await scene.Pool.Add([Image("late", Earlier.AddSeconds(1), 10.01f)]).WaitAsync(Limit, cancel);

        Assert.False(await scene.Store.AnyUnderAsync(Prefix, cancel), "the deleted line's folder holds " + string.Join(", ", await scene.ListAsync()));
    }

    private const string FailureBlob = Prefix + "novel/recluster-failure.json";

    // Embeddings of two dimensions (a line whose catalogs changed backbone) cannot be clustered together.
    private static readonly NovelPoolImage[] TwoDimensions = [ThreeImages[0], ThreeImages[1], ThreeImages[2] with { Embedding = [-10f] }];

    /// <summary>The failure of <paramref name="request"/> once it is stored, asking the grain meanwhile (as a client's poll does).</summary>
    private static async Task<NovelReclusterFailure> StoredFailureAsync(LineNovelPoolScene scene, NovelReclusterRequest request)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            await scene.Pool.ReclusterStatus();
            if (await scene.Store.ExistsAsync(FailureBlob, TestContext.Current.CancellationToken))
            {
                using var stored = JsonDocument.Parse(await scene.Store.ReadAllBytesAsync(FailureBlob, cancellationToken: TestContext.Current.CancellationToken));
                if (FailureRecords(stored.RootElement).FirstOrDefault(failure => failure.GetProperty("requestId").GetString() == request.RequestId) is { ValueKind: JsonValueKind.Object } found)
                {
                    return found.Deserialize<NovelReclusterFailure>(LineImageDecider.LogJson)!;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"no stored failure of request {request.RequestId} within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The request ids of the stored failures, as the file lists them.</summary>
    private static async Task<List<string?>> StoredFailureRequestsAsync(LineNovelPoolScene scene)
    {
        using var stored = JsonDocument.Parse(await scene.Store.ReadAllBytesAsync(FailureBlob, cancellationToken: TestContext.Current.CancellationToken));
        return [.. FailureRecords(stored.RootElement).Select(failure => failure.GetProperty("requestId").GetString())];
    }

    // Read from the file itself (a list under "failures"; one record before), so that the test reads what a store holds.
    private static IEnumerable<JsonElement> FailureRecords(JsonElement file) =>
        file.TryGetProperty("failures", out var failures) ? failures.EnumerateArray() : [file];
}
