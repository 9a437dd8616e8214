using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The automatic recluster of a line's novel pool runs after the addition that made it due, not inside it: the addition is
/// on the line's decision path, and a recluster of a full pool outlasts a grain call (before, the intake was answered
/// <c>unavailable</c> and queued behind it). Additions made while a recluster runs are pooled and make the next one due,
/// readers see the last completed proposals and that a recluster runs, a recluster asked for waits for the running one, and
/// a proposal named meanwhile keeps its members out of the running recluster's result. The recluster is held at the store
/// (its proposals' write, or one image's read) for as long as the test needs, with the store's signals as barriers.
/// </summary>
public sealed class LineNovelPoolReclusterTests
{
    private const string Prefix = "lines/_/rolls/";

    // Generous: the machine running the tests may be loaded.
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static readonly DateTimeOffset Earlier = DateTimeOffset.UtcNow.AddHours(-1);

    [Fact]
    public async Task AnAddThatMakesAReclusterDueReturnsBeforeItAndTheAddsMadeMeanwhileAreReclusteredAfterIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-background")), IsProposals);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);

            // The third image makes the recluster due; it stops at storing its proposals until the test lets it go on.
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)])
                .WaitAsync(Limit, cancel);
            await store.WriteArrived.Task.WaitAsync(Limit, cancel);

            Assert.Null(await NewPool(store).ProposalsAsync(cancel));
            // Decided after the running recluster read the pool: pooled now, clustered by the recluster they make due.
            var later = DateTimeOffset.UtcNow;
            await pool.Add([Image("near-2", later, 10.02f), Image("far-1", later.AddTicks(1), -10.01f), Image("far-2", later.AddTicks(2), -10.02f)])
                .WaitAsync(Limit, cancel);
            Assert.Equal(6, await NewPool(store).CountAsync(cancel));
            store.Release();

            var set = await ProposalsAsync(store, run: 2);
            Assert.Equal((2, 6, 2), (set.Run, set.PoolSize, set.Proposals.Count));
            Assert.Equal(["far-0", "far-1", "far-2", "near-0", "near-1", "near-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
            Assert.All(set.Proposals, p => Assert.Equal(3, p.Size));
        }
        finally
        {
            store.Release();
        }
    }

    [Fact]
    public async Task WhileAReclusterRunsReadsSeeTheLastCompletedOneAndAReclusterAskedForWaitsForIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var hold = false;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-running")), name => Volatile.Read(ref hold) && IsProposals(name));
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)]);
            Assert.Equal(3, (await ProposalsAsync(store, run: 1)).PoolSize);

            Volatile.Write(ref hold, true);
            var later = DateTimeOffset.UtcNow;
            await pool.Add([Image("near-2", later, 10.02f), Image("far-1", later.AddTicks(1), -10.01f), Image("far-2", later.AddTicks(2), -10.02f)]);
            await store.WriteArrived.Task.WaitAsync(Limit, cancel);

            var running = (await pool.ReclusterStatus()).Running;
            Assert.NotNull(running);
            Assert.True(running.Automatic);
            Assert.Equal(1, (await NewPool(store).ProposalsAsync(cancel))!.Run);
            var asked = pool.Recluster(1);
            // Pooled while both wait; a recluster that ran beside the held one would have stored run 2 as well.
            await pool.Add([Image("near-3", later.AddTicks(3), 10.03f)]).WaitAsync(Limit, cancel);
            store.Release();

            var set = await asked.WaitAsync(Limit, cancel);
            Assert.Equal((3, 7, 1), (set.Run, set.PoolSize, set.Proposals.Count));
            Assert.False(set.Automatic);
            Assert.Null((await pool.ReclusterStatus()).Running);
            Assert.Equal(3, (await NewPool(store).ProposalsAsync(cancel))!.Run);
        }
        finally
        {
            store.Release();
        }
    }

    [Fact]
    public async Task AProposalNamedWhileAReclusterRunsIsNotProposedAgain()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-named")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            await pool.Add([.. Enumerable.Range(0, 4).Select(i => Image($"near-{i}", Earlier.AddSeconds(i), 10f + i * 0.01f)),
                .. Enumerable.Range(0, 2).Select(i => Image($"far-{i}", Earlier.AddSeconds(10 + i), -10f - i * 0.01f))]);
            Assert.Equal(["near-0", "near-1", "near-2", "near-3"], (await ProposalsAsync(store, run: 1)).Proposals[0].Members);

            // The next recluster waits at one new image's read, the others read by then or soon after.
            store.HoldReads(name => name.EndsWith("-mid-2.json", StringComparison.Ordinal));
            var later = DateTimeOffset.UtcNow;
            await pool.Add([.. Enumerable.Range(0, 3).Select(i => Image($"mid-{i}", later.AddTicks(i), 0.5f + i * 0.01f))]);
            await store.ReadArrived.Task.WaitAsync(Limit, cancel);
            Assert.Equal(2, await pool.Name("p1", "dent").WaitAsync(Limit, cancel));
            store.ReleaseReads();

            var set = await ProposalsAsync(store, run: 2);
            Assert.Equal(5, set.PoolSize);
            Assert.Equal(["far-0", "far-1", "mid-0", "mid-1", "mid-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
            Assert.Equal(5, await NewPool(store).CountAsync(cancel));
        }
        finally
        {
            store.ReleaseReads();
        }
    }

    [Fact]
    public async Task AReclusterAskedForIsAnsweredAtOnceAndItsProposalsCarryItsRequest()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-requested")), IsProposals);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)]);

            // Answered while the recluster it started is held at its store: a full pool's outlasts the call.
            var first = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
            await store.WriteArrived.Task.WaitAsync(Limit, cancel);
            Assert.Equal((first.RequestId, false), ((await pool.ReclusterStatus()).Running?.RequestId, (await pool.ReclusterStatus()).Running!.Automatic));
            // The running one read the pool before: asked again, a new one waits; asked a third time, that one is joined.
            var second = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
            var third = await pool.RequestRecluster(2).WaitAsync(Limit, cancel);
            Assert.NotEqual(first.RequestId, second.RequestId);
            Assert.Equal(second, third);
            Assert.Equal([second], (await pool.ReclusterStatus()).Waiting);
            store.Release();

            var set = await ProposalsAsync(store, run: 2);
            Assert.Equal((2, second.RequestId, 2), (set.Run, set.RequestId, set.Proposals.Count));
            await ReclusterEndedAsync(pool);
            Assert.Empty((await pool.ReclusterStatus()).Waiting);
        }
        finally
        {
            store.Release();
        }
    }

    [Fact]
    public async Task ARequestedReclusterThatFailsLeavesItsReasonWithItsRequest()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-requested-failed")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        await CreateLineAsync(store);
        var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
        // Embeddings of two dimensions (a line whose catalogs changed backbone) cannot be clustered together.
        await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f) with { Embedding = [-10f] }]);

        var request = await pool.RequestRecluster(null).WaitAsync(Limit, cancel);
        var deadline = DateTime.UtcNow + Limit;
        NovelReclusterFailure? failure;
        while ((failure = await NewPool(store).LastFailureAsync(cancel))?.RequestId != request.RequestId)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no failure of request {request.RequestId} within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, cancel);
        }
        Assert.Equal((NovelPoolError.Conflict, false), (failure!.Error, failure.Automatic));
        Assert.Contains("different dimensions", failure.Message, StringComparison.Ordinal);
        Assert.Null(await NewPool(store).ProposalsAsync(cancel));
        // A caller that waits (Recluster) hears the same reason.
        var thrown = await Assert.ThrowsAsync<NovelPoolException>(() => pool.Recluster(null).WaitAsync(Limit, cancel));
        Assert.Equal(NovelPoolError.Conflict, thrown.Error);
        // What the caller can put right is refused at once.
        Assert.Equal(NovelPoolError.Invalid, (await Assert.ThrowsAsync<NovelPoolException>(() => pool.RequestRecluster(4).WaitAsync(Limit, cancel))).Error);
    }

    [Fact]
    public async Task AReclusterOfALineDeletedWhileItReadsThePoolStoresNothing()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-deleted-reading")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            store.HoldReads(name => name.EndsWith("-far-0.json", StringComparison.Ordinal));
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)]);
            await store.ReadArrived.Task.WaitAsync(Limit, cancel);

            // Its catalog is what makes a line exist: DELETE /lines/{name} deletes it last, after the pool; the images are left
            // here so that the recluster has something to store.
            await store.DeleteAsync(LineCatalogStore.CatalogBlob(Prefix, 1), cancel);
            store.ReleaseReads();
            await ReclusterEndedAsync(pool);

            Assert.Null(await NewPool(store).ProposalsAsync(cancel));
        }
        finally
        {
            store.ReleaseReads();
        }
    }

    [Fact]
    public async Task ALineDeletedWhileAReclusterStoresItsProposalsIsLeftEmptyOnceThePoolHearsOfIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-deleted-storing")), IsProposals);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)]);
            // Past its check that the line exists: its write lands after the deletion's listing.
            await store.WriteArrived.Task.WaitAsync(Limit, cancel);

            await store.DeletePrefixAsync(Prefix, cancel);
            var told = pool.LineDeleted();
            store.Release();
            await told.WaitAsync(Limit, cancel);
            await ReclusterEndedAsync(pool);

            Assert.False(await store.AnyUnderAsync(Prefix, cancel), "the deleted line's folder holds " + string.Join(", ", await ListAsync(store)));
        }
        finally
        {
            store.Release();
        }
    }

    [Fact]
    public async Task ImagesEvictedWhileAReclusterReadsThePoolAreReplacedByTheImagesThatEvictedThem()
    {
        // A full pool evicts its oldest image for each new one: a recluster reading beside additions found some listed
        // images gone and clustered the survivors of its listing (a pool of 4 reclustered as 1 or 2 images).
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-evicted")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        try
        {
            await CreateLineAsync(store);
            await NewPool(store).SaveSettingsAsync(new NovelPoolSettings(Capacity: 4, ReclusterEvery: 3, ClusterCount: 2), cancel);
            var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
            store.HoldReads(name => name.EndsWith("-near-1.json", StringComparison.Ordinal));
            await pool.Add([Image("near-0", Earlier, 10f), Image("near-1", Earlier.AddSeconds(1), 10.01f), Image("far-0", Earlier.AddSeconds(2), -10f)]);
            await store.ReadArrived.Task.WaitAsync(Limit, cancel);

            // Decided before the recluster started (so no second one becomes due), pooled after its listing: near-0 and
            // near-1 are evicted while it reads.
            await pool.Add([Image("near-2", Earlier.AddSeconds(3), 10.02f), Image("far-1", Earlier.AddSeconds(4), -10.01f), Image("far-2", Earlier.AddSeconds(5), -10.02f)])
                .WaitAsync(Limit, cancel);
            Assert.Equal(4, await NewPool(store).CountAsync(cancel));
            store.ReleaseReads();
            await ReclusterEndedAsync(pool);

            var set = await ProposalsAsync(store, run: 1);
            Assert.Equal(4, set.PoolSize);
            Assert.Equal(["far-0", "far-1", "far-2", "near-2"], set.Proposals.SelectMany(p => p.Members).Order(StringComparer.Ordinal));
        }
        finally
        {
            store.ReleaseReads();
        }
    }

    [Fact]
    public async Task ImagesAddedAfterTheLinesDeletionAreNotPooled()
    {
        // Decided just before DELETE /lines/{name} and added after it told the pool: they stayed under the deleted line's
        // folder, in the pool of a line made again under the name.
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-late-add")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        await CreateLineAsync(store);
        var pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
        await pool.Add([Image("kept", Earlier, 10f)]);
        Assert.Equal(1, await NewPool(store).CountAsync(cancel));

        await store.DeletePrefixAsync(Prefix, cancel);
        await pool.LineDeleted().WaitAsync(Limit, cancel);
        await pool.Add([Image("late", Earlier.AddSeconds(1), 10.01f)]).WaitAsync(Limit, cancel);

        Assert.False(await store.AnyUnderAsync(Prefix, cancel), "the deleted line's folder holds " + string.Join(", ", await ListAsync(store)));
    }

    private static async Task CreateLineAsync(IBlobStore store) =>
        await new LineCatalogStore(store).AddAsync(Prefix, version => new LineCatalog("rolls", version, new CatalogSource("built-in", "test", null, "average"), null,
            AssignmentRuleSettings.Default, 2, [new CatalogCluster("crack", 5, [0f, 0f], 1.0)]), TestContext.Current.CancellationToken);

    private static async Task ReclusterEndedAsync(ILineNovelPoolGrain pool)
    {
        var deadline = DateTime.UtcNow + Limit;
        while ((await pool.ReclusterStatus()).Running is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the recluster did not end within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<List<string>> ListAsync(IBlobStore store)
    {
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(Prefix, TestContext.Current.CancellationToken))
        {
            names.Add(entry.Name);
        }
        return names;
    }

    private static bool IsProposals(string name) => name.EndsWith("/novel/proposals.json", StringComparison.Ordinal);

    private static LineNovelPool NewPool(IBlobStore store) => new(store, new LineCatalogStore(store), Prefix);

    private static NovelPoolImage Image(string id, DateTimeOffset decidedAt, float value) => new(id, id + ".png", [value, value], null, 3.5, decidedAt, 1);

    /// <summary>The stored proposals once they are recluster <paramref name="run"/>'s (or a later one's: that fails the test's next assertion).</summary>
    private static async Task<NovelProposalSet> ProposalsAsync(IBlobStore store, int run)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            if (await NewPool(store).ProposalsAsync(TestContext.Current.CancellationToken) is { } set && set.Run >= run)
            {
                return set;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no recluster {run} within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
