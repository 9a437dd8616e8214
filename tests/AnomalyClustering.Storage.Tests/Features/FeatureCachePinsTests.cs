using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Storage.Tests.Features;

/// <summary>
/// Pins and the expiry pass over a real store (a local folder, and Azurite by a subclass): the pass walks the pin index
/// beside the cache's listing, keeps every pinned entry among many owners, protects entries pinned before the index
/// existed and entries pinned while it listed.
/// </summary>
public abstract class FeatureCachePinsTests
{
    /// <summary>A new, empty store for one test.</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // A cache entry's name as FeatureCacheKey.BlobName makes it: {prefix}{xx}/{64 hex}.bag.
    private static string Entry(int i)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("entry " + i)));
        return $"{FeatureCacheKey.BlobPrefix}{hash[..2]}/{hash}.bag";
    }

    private static async Task<List<string>> NamesAsync(IBlobStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(prefix, Token))
        {
            names.Add(entry.Name);
        }
        return names;
    }

    private static async Task PutEntriesAsync(IBlobStore store, IEnumerable<string> entries)
    {
        foreach (var entry in entries)
        {
            await store.PutAsync(entry, new MemoryStream([1, 2, 3]), overwrite: true, Token);
        }
    }

    [Fact]
    public async Task APassKeepsEveryPinnedEntryAmongManyAndDeletesEveryOther()
    {
        var store = await CreateStoreAsync();
        var entries = Enumerable.Range(0, 300).Select(Entry).ToArray();
        await PutEntriesAsync(store, entries);
        var byJob = entries.Where((_, i) => i % 3 == 0).ToArray();
        var byLine = entries.Where((_, i) => i % 5 == 0).ToArray();
        await FeatureCachePins.PinAsync(store, FeatureCachePins.JobOwner("job-a"), byJob, Token);
        await FeatureCachePins.PinAsync(store, "lines/_/plate/", byLine, Token);
        var pinned = byJob.Union(byLine).ToHashSet();

        Assert.Equal(300 - pinned.Count, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 1_000, Token));
        Assert.Equal(pinned.Order(StringComparer.Ordinal), await NamesAsync(store, FeatureCacheKey.BlobPrefix));

        // The job's pins go; the entries the line pins too stay.
        Assert.Equal(byJob.Length, await FeatureCachePins.UnpinAsync(store, FeatureCachePins.JobOwner("job-a"), Token));
        Assert.Equal(byJob.Except(byLine).Count(), await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 1_000, Token));
        Assert.Equal(byLine.Order(StringComparer.Ordinal), await NamesAsync(store, FeatureCacheKey.BlobPrefix));
        Assert.Equal(byLine.Length, await FeatureCachePins.UnpinAsync(store, "lines/_/plate/", Token));
        Assert.Empty(await NamesAsync(store, FeatureCachePins.Prefix));
        Assert.Empty(await NamesAsync(store, FeatureCachePins.IndexPrefix));
    }

    [Fact]
    public async Task AnOwnerBelowALineUnpinsOnlyItsOwnAndTheLineUnpinsEveryOwnerBelowIt()
    {
        // A line's pins are kept per creation of a catalog (LineApi): two creations pin the same entries.
        var store = await CreateStoreAsync();
        var entries = Enumerable.Range(0, 6).Select(Entry).ToArray();
        await PutEntriesAsync(store, entries);
        await FeatureCachePins.PinAsync(store, "lines/_/plate/creation-a", entries, Token);
        await FeatureCachePins.PinAsync(store, "lines/_/plate/creation-b", entries[..3], Token);
        await FeatureCachePins.PinAsync(store, "lines/_/plate-b/creation-c", entries[..1], Token);

        // One creation's pins go; the entries stay pinned by the other.
        Assert.Equal(3L, await FeatureCachePins.UnpinAsync(store, "lines/_/plate/creation-b", Token));
        Assert.Equal(0, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 1_000, Token));
        // The line's unpinning takes every creation's pins below it, by owner and in the index, and never another line's.
        Assert.Equal(6L, await FeatureCachePins.UnpinAsync(store, "lines/_/plate/", Token));
        Assert.DoesNotContain(await NamesAsync(store, FeatureCachePins.IndexPrefix), pin => pin.Contains("/lines/_/plate/", StringComparison.Ordinal));
        Assert.Equal(5, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 1_000, Token));
        Assert.Equal([entries[0]], await NamesAsync(store, FeatureCacheKey.BlobPrefix));
    }

    [Fact]
    public async Task TheBoundCountsOnlyUnpinnedEntriesAndTheNextPassGoesOn()
    {
        var store = await CreateStoreAsync();
        var entries = Enumerable.Range(0, 40).Select(Entry).ToArray();
        await PutEntriesAsync(store, entries);
        var pinned = entries.Where((_, i) => i % 2 == 0).ToArray();
        await FeatureCachePins.PinAsync(store, FeatureCachePins.JobOwner("job-b"), pinned, Token);

        Assert.Equal(15, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 15, Token));
        Assert.Equal(5, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 15, Token));
        Assert.Equal(0, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 15, Token));
        Assert.Equal(pinned.Order(StringComparer.Ordinal), await NamesAsync(store, FeatureCacheKey.BlobPrefix));
    }

    [Fact]
    public async Task UnpinningGoesInRoundsPastAThousandPins()
    {
        var store = await CreateStoreAsync();
        var entries = Enumerable.Range(0, 1_050).Select(Entry).ToArray();
        await FeatureCachePins.PinAsync(store, FeatureCachePins.JobOwner("job-c"), entries, Token);
        Assert.Equal(1_050, (await NamesAsync(store, FeatureCachePins.IndexPrefix)).Count);

        Assert.Equal(1_050L, await FeatureCachePins.UnpinAsync(store, FeatureCachePins.JobOwner("job-c"), Token));
        Assert.Empty(await NamesAsync(store, FeatureCachePins.Prefix));
        Assert.Empty(await NamesAsync(store, FeatureCachePins.IndexPrefix));
    }

    [Fact]
    public async Task PinsMadeBeforeTheIndexExistedStillProtectTheirEntries()
    {
        var store = await CreateStoreAsync();
        var kept = Entry(1);
        var other = Entry(2);
        await PutEntriesAsync(store, [kept, other]);
        // A pin as the releases before the index wrote it: the owner's blob alone.
        await store.PutAsync(FeatureCachePins.OwnerPrefix("lines/_/plate/") + kept[FeatureCacheKey.BlobPrefix.Length..], Stream.Null, overwrite: true, Token);
        Assert.False(await FeatureCachePins.IsPinnedAsync(store, kept, Token));

        Assert.Equal(1, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 100, Token));
        Assert.True(await store.ExistsAsync(kept, Token), "the old pin kept its entry");
        Assert.False(await store.ExistsAsync(other, Token));
        Assert.True(await store.ExistsAsync(FeatureCachePins.IndexBuiltMarker, Token));
        Assert.True(await FeatureCachePins.IsPinnedAsync(store, kept, Token));
        Assert.Equal(0L, await FeatureCachePins.EnsureIndexAsync(store, Token));

        Assert.Equal(1L, await FeatureCachePins.UnpinAsync(store, "lines/_/plate/", Token));
        Assert.Equal(1, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 100, Token));
        Assert.Empty(await NamesAsync(store, FeatureCachePins.IndexPrefix));
    }

    [Fact]
    public async Task ARebuildAfterARollbackIndexesTheOldReleasesPinsAndDropsWhatItUnpinned()
    {
        var store = await CreateStoreAsync();
        var unpinnedByOld = Entry(4);
        var pinnedByOld = Entry(5);
        await PutEntriesAsync(store, [unpinnedByOld]);
        await FeatureCachePins.PinAsync(store, FeatureCachePins.JobOwner("job-e"), [unpinnedByOld], Token);
        Assert.Equal(0, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 100, Token));
        // Rolled back: the old release pins and unpins by the owners' blobs alone; then rolled forward, the marker deleted.
        await PutEntriesAsync(store, [pinnedByOld]);
        await store.PutAsync(FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner("job-f")) + pinnedByOld[FeatureCacheKey.BlobPrefix.Length..],
            Stream.Null, overwrite: true, Token);
        await store.DeleteAsync(FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner("job-e")) + unpinnedByOld[FeatureCacheKey.BlobPrefix.Length..], Token);
        await store.DeleteAsync(FeatureCachePins.IndexBuiltMarker, Token);

        Assert.Equal(1, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 100, Token));
        Assert.False(await store.ExistsAsync(unpinnedByOld, Token), "the index pins the old release left kept an unpinned entry");
        Assert.True(await store.ExistsAsync(pinnedByOld, Token), "the old release's pin did not protect its entry");
    }

    [Fact]
    public async Task AnEntryPinnedWhileThePassListedIsKept()
    {
        var local = await CreateStoreAsync();
        var entries = Enumerable.Range(0, 10).Select(Entry).ToArray();
        await PutEntriesAsync(local, entries);
        var late = entries.Order(StringComparer.Ordinal).First();
        // A job pins the first entry once the pass has listed the whole cache (so the listing saw it unpinned).
        var store = new AfterListingStore(local, FeatureCacheKey.BlobPrefix,
            () => FeatureCachePins.PinAsync(local, FeatureCachePins.JobOwner("late-job"), [late], Token));

        Assert.Equal(9, await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, DateTimeOffset.MaxValue, 100, Token));
        Assert.True(await local.ExistsAsync(late, Token), "the entry pinned during the listing was deleted");
    }

    [Fact]
    public async Task OnlyCacheEntriesArePinnedAndOnlyIndexPinsNameOne()
    {
        var store = await CreateStoreAsync();
        await FeatureCachePins.PinAsync(store, FeatureCachePins.JobOwner("job-d"), ["jobs/job-d/result/result.json", Entry(3)], Token);
        Assert.Single(await NamesAsync(store, FeatureCachePins.IndexPrefix));
        Assert.False(await FeatureCachePins.IsPinnedAsync(store, "jobs/job-d/result/result.json", Token));
        var key = Entry(3)[FeatureCacheKey.BlobPrefix.Length..];
        Assert.Equal(key, FeatureCachePins.IndexedKey(FeatureCachePins.IndexPrefix + key + "/lines/_/plate"));
        Assert.Null(FeatureCachePins.IndexedKey(FeatureCachePins.IndexPrefix + key));
        Assert.Null(FeatureCachePins.IndexedKey(FeatureCachePins.Prefix + "jobs/job-d/" + key));
    }

    /// <summary>Runs an action once a listing of one prefix has been read to its end (a writer that came during it).</summary>
    private sealed class AfterListingStore(IBlobStore inner, string prefix, Func<Task> afterListing) : IBlobStore
    {
        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default) =>
            inner.PutAsync(name, content, overwrite, cancellationToken);

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public async IAsyncEnumerable<BlobEntry> ListAsync(string listed = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var entry in inner.ListAsync(listed, cancellationToken))
            {
                yield return entry;
            }
            if (listed == prefix)
            {
                await afterListing();
            }
        }

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}

/// <summary>The pins against <see cref="LocalDirectoryBlobStore"/> in a temporary folder per test.</summary>
public sealed class LocalDirectoryFeatureCachePinsTests : FeatureCachePinsTests, IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("feature-pins-").FullName;

    /// <inheritdoc />
    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalDirectoryBlobStore(root));

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(root, recursive: true);
}

/// <summary>The pins against <see cref="AzureBlobStore"/> on a real Azurite (its listing order is the service's), a new container per test.</summary>
public sealed class AzureFeatureCachePinsTests(AzuriteFixture azurite) : FeatureCachePinsTests, IClassFixture<AzuriteFixture>
{
    /// <inheritdoc />
    protected override Task<IBlobStore> CreateStoreAsync() => AzuriteStores.NewContainerAsync(azurite);
}
