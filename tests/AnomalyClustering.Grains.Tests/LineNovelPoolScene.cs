using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// What every test of a line's novel-pool grain starts from: a gated store over a scratch folder, a one-silo cluster over it,
/// the line <see cref="Prefix"/> with one catalog version, its pool settings when a test gives them, and the line's pool grain.
/// Disposing it lets every held write and read go on before the cluster stops (a recluster held at the store would keep the
/// silo's deactivation waiting).
/// </summary>
internal sealed class LineNovelPoolScene : IAsyncDisposable
{
    /// <summary>The line's blob prefix, the pool grain's key.</summary>
    public const string Prefix = "lines/_/rolls/";

    /// <summary>How long a test waits for what it waits for; generous, as the machine running the tests may be loaded.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private readonly InProcessTestCluster _cluster;

    private LineNovelPoolScene(WriteGatedStore store, InProcessTestCluster cluster)
    {
        Store = store;
        _cluster = cluster;
        Pool = cluster.Client.GetGrain<ILineNovelPoolGrain>(Prefix);
    }

    /// <summary>The store; its writes of the blobs the scene's <c>gatedWrites</c> picks wait for <see cref="WriteGatedStore.Release"/>.</summary>
    public WriteGatedStore Store { get; }

    /// <summary>The line's pool grain.</summary>
    public ILineNovelPoolGrain Pool { get; }

    /// <summary>
    /// Starts the scene in a new scratch folder named after <paramref name="folder"/>; <paramref name="gatedWrites"/> picks the
    /// writes held (none by default), <paramref name="settings"/> are stored as the pool's (the defaults otherwise), and
    /// <paramref name="pooled"/> are added to the pool through its grain.
    /// </summary>
    public static async Task<LineNovelPoolScene> StartAsync(
        string folder, Func<string, bool>? gatedWrites = null, NovelPoolSettings? settings = null, IReadOnlyList<NovelPoolImage>? pooled = null)
    {
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder(folder)), gatedWrites ?? (_ => false));
        var cluster = await OneSiloCluster.StartAsync(store);
        var scene = new LineNovelPoolScene(store, cluster);
        try
        {
            await new LineCatalogStore(store).AddAsync(Prefix, version => new LineCatalog("rolls", version, new CatalogSource("built-in", "test", null, "average"), null,
                AssignmentRuleSettings.Default, 2, [new CatalogCluster("crack", 5, [0f, 0f], 1.0)]), TestContext.Current.CancellationToken);
            if (settings is not null)
            {
                await scene.NewPool().SaveSettingsAsync(settings, TestContext.Current.CancellationToken);
            }
            if (pooled is not null)
            {
                await scene.Pool.Add(pooled).WaitAsync(Limit, TestContext.Current.CancellationToken);
            }
            return scene;
        }
        catch
        {
            await scene.DisposeAsync();
            throw;
        }
    }

    /// <summary>A novel image of 2 values, both <paramref name="value"/>.</summary>
    public static NovelPoolImage Image(string id, DateTimeOffset decidedAt, float value) => new(id, id + ".png", [value, value], null, 3.5, decidedAt, 1);

    /// <summary>True for the blob of the pool's proposals.</summary>
    public static bool IsProposals(string name) => name.EndsWith("/novel/proposals.json", StringComparison.Ordinal);

    /// <summary>A fresh view of the line's pool in the store, as the API reads it.</summary>
    public LineNovelPool NewPool() => new(Store, new LineCatalogStore(Store), Prefix);

    /// <summary>The stored proposals once they are recluster <paramref name="run"/>'s (or a later one's: that fails the test's next assertion).</summary>
    public async Task<NovelProposalSet> ProposalsAsync(int run)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            if (await NewPool().ProposalsAsync(TestContext.Current.CancellationToken) is { } set && set.Run >= run)
            {
                return set;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no recluster {run} within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until no recluster runs.</summary>
    public async Task ReclusterEndedAsync()
    {
        var deadline = DateTime.UtcNow + Limit;
        while ((await Pool.ReclusterStatus()).Running is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the recluster did not end within {Limit.TotalMinutes} minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The names of every blob under the line.</summary>
    public async Task<List<string>> ListAsync()
    {
        var names = new List<string>();
        await foreach (var entry in Store.ListAsync(Prefix, TestContext.Current.CancellationToken))
        {
            names.Add(entry.Name);
        }
        return names;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Store.Release();
        Store.ReleaseReads();
        Store.ComeBack();
        await _cluster.DisposeAsync();
    }
}
