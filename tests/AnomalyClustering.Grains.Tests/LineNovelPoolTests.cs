using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// <see cref="LineNovelPool"/> over a local store: an image is pooled once by id, beyond the capacity the images decided
/// longest ago leave (whatever order they arrive in), a recluster proposes Ward clusters of two well separated groups, and
/// naming a proposal adds exactly its cluster to a new catalog version, refusing names already taken (in any case).
/// </summary>
public sealed class LineNovelPoolTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ImagesArePooledOnceAndTheOldestLeaveBeyondTheCapacity()
    {
        var (pool, _, store) = await NewLineAsync("ac-pool-bound");
        var settings = new NovelPoolSettings(Capacity: 3);
        // Arrival order is not decision order: two intake streams can deliver a later decision first.
        var images = new[] { 4, 0, 2, 1, 3 }.Select(minute => Image($"img-{minute}", Start.AddMinutes(minute), 0f)).ToArray();

        Assert.Equal(5, await pool.AddAsync(images, settings, TestContext.Current.CancellationToken));
        Assert.Equal(0, await pool.AddAsync([images[0], Image("img-2", Start.AddMinutes(9), 5f)], settings, TestContext.Current.CancellationToken));

        var kept = await pool.ImagesAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["img-2", "img-3", "img-4"], kept.Select(image => image.ImageId));
        Assert.Equal(0f, kept[0].Embedding[0]);
        // A fresh instance (another activation, another CLI run) reads the same pool from the store.
        var again = new LineNovelPool(store, new LineCatalogStore(store), Prefix);
        Assert.Equal(3, await again.CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AReclusterProposesTheTwoGroupsAndANamedProposalJoinsTheNextVersion()
    {
        var (pool, catalogs, _) = await NewLineAsync("ac-pool-name");
        var images = Enumerable.Range(0, 6).Select(i => Image($"near-{i}", Start.AddSeconds(i), 10f + i * 0.01f))
            .Concat(Enumerable.Range(0, 4).Select(i => Image($"far-{i}", Start.AddSeconds(10 + i), -10f - i * 0.01f)))
            .ToArray();
        await pool.AddAsync(images, new NovelPoolSettings(), TestContext.Current.CancellationToken);

        var set = await pool.ReclusterAsync(null, Start.AddHours(1), TestContext.Current.CancellationToken);

        Assert.Equal((1, 10, true), (set.Run, set.PoolSize, set.Automatic));
        Assert.Equal(["p1", "p2"], set.Proposals.Select(p => p.Id));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"near-{i}").Order(), set.Proposals[0].Members.Order());
        Assert.Equal(10.025f, set.Proposals[0].Centroid[0], 3);

        var clash = await Assert.ThrowsAsync<NovelPoolException>(() => pool.NameAsync("p1", "CRACK", TestContext.Current.CancellationToken));
        Assert.Equal(NovelPoolError.NameClash, clash.Error);
        var unknown = await Assert.ThrowsAsync<NovelPoolException>(() => pool.NameAsync("p3", "dent", TestContext.Current.CancellationToken));
        Assert.Equal(NovelPoolError.UnknownProposal, unknown.Error);

        var catalog = await pool.NameAsync("P2", "dent", TestContext.Current.CancellationToken);

        Assert.Equal(2, catalog.Version);
        Assert.Equal(["crack", "dent"], catalog.Clusters.Select(c => c.Name));
        Assert.Equal(4, catalog.Clusters[1].Size);
        Assert.Equal(set.Proposals[1].Spread, catalog.Clusters[1].Spread);
        Assert.Single((await catalogs.ReadAsync(Prefix, 1, TestContext.Current.CancellationToken)).Clusters);
        Assert.Equal(6, await pool.CountAsync(TestContext.Current.CancellationToken));
        Assert.Equal("dent", (await pool.ProposalsAsync(TestContext.Current.CancellationToken))!.Proposals[1].NamedAs);
        // An image of the new type is now assigned to it.
        var decision = new WardAssignmentRule(catalog).Assign(set.Proposals[1].Centroid);
        Assert.Equal(("dent", AssignmentOutcome.Assigned), (decision.NearestName, decision.Outcome));
    }

    [Fact]
    public async Task ANamedProposalsMembersAreDeletedSeveralAtATime()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-pool-name-parallel")), _ => false);
        var catalogs = new LineCatalogStore(store);
        await catalogs.AddAsync(Prefix, version => new LineCatalog("plates", version, new CatalogSource("built-in", "test", null, "average"), null,
            AssignmentRuleSettings.Default, 2, [new CatalogCluster("crack", 5, [0f, 0f], 1.0)]), cancel);
        var pool = new LineNovelPool(store, catalogs, Prefix);
        await pool.AddAsync([.. Enumerable.Range(0, 40).Select(i => Image($"img-{i}", Start.AddSeconds(i), 10f + i * 0.001f))], new NovelPoolSettings(), cancel);
        await pool.ReclusterAsync(1, Start.AddHours(1), cancel);

        // Every member's delete waits: one after the other, only the first would ever reach the store.
        store.HoldDeletes(pool.ImagesPrefix);
        var naming = pool.NameAsync("p1", "dent", cancel);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (store.Deletes.Count < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{store.Deletes.Count} delete in flight after 2 minutes: the members are deleted one at a time");
                await Task.Delay(50, cancel);
            }
        }
        finally
        {
            store.ReleaseDeletes();
        }
        Assert.Equal(2, (await naming.WaitAsync(TimeSpan.FromMinutes(2), cancel)).Version);
        Assert.Equal(0, await new LineNovelPool(store, catalogs, Prefix).CountAsync(cancel));
        Assert.Equal(40, store.Deletes.Count);
    }

    private const string Prefix = "lines/_/plates/";

    private static NovelPoolImage Image(string id, DateTimeOffset decidedAt, float value) => new(id, id + ".png", [value, value], null, 3.5, decidedAt, 1);

    private static async Task<(LineNovelPool Pool, LineCatalogStore Catalogs, IBlobStore Store)> NewLineAsync(string name)
    {
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder(name));
        var catalogs = new LineCatalogStore(store);
        await catalogs.AddAsync(Prefix, version => new LineCatalog("plates", version, new CatalogSource("built-in", "test", null, "average"), null,
            AssignmentRuleSettings.Default, 2, [new CatalogCluster("crack", 5, [0f, 0f], 1.0)]), TestContext.Current.CancellationToken);
        return (new LineNovelPool(store, catalogs, Prefix), catalogs, store);
    }
}
