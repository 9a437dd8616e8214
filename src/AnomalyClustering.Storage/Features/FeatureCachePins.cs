namespace AnomalyClustering.Storage;

/// <summary>
/// Pins that keep feature-cache entries from expiring (<see cref="FeatureCacheExpiry"/>) while something that needs them
/// exists. A cache entry's age is that of its first write (a hit does not rewrite it), so without pins a retention time would
/// expire the reference or normal bags of a job that started yesterday over images first seen a month ago, and the bags a
/// production line scores every new image against. A job pins its reference and normal bags for as long as it exists, a
/// line the bags of its catalogs.
/// </summary>
/// <remarks>
/// A pin is two empty blobs, both outside <see cref="FeatureCacheKey.BlobPrefix"/> (never entries themselves):
/// <list type="bullet">
/// <item><c>features/pins/{owner}/{xx}/{hash}.bag</c>, by owner: an owner's pins are one listing (its unpinning);</item>
/// <item><c>features/pin-index/{xx}/{hash}.bag/{owner}</c>, by entry: listed in the same order as the cache's entries, so
/// that an expiry pass walks both listings side by side in constant memory (it held every pin in a set, millions where
/// jobs score exactly), and one short listing says whether an entry is pinned.</item>
/// </list>
/// The owner's blob is written first and deleted last: a pin cut short leaves at most an owner's blob without its index
/// blob, which the pin's caller sees as an error (its retry writes both), never an index blob that no unpinning would find.
/// </remarks>
public static class FeatureCachePins
{
    /// <summary>Where pins are kept by owner.</summary>
    public const string Prefix = "features/pins/";

    /// <summary>Where pins are kept by entry: <c>{IndexPrefix}{xx}/{hash}.bag/{owner}</c>.</summary>
    public const string IndexPrefix = "features/pin-index/";

    /// <summary>
    /// Written once the index holds every pin made before it existed (<see cref="EnsureIndexAsync"/>): stores from before
    /// 2026-12-04 have owners' blobs only.
    /// </summary>
    public const string IndexBuiltMarker = "features/pin-index-built";

    // Pins written or removed at once: a job in exact-score mode pins every image's bag.
    private const int ParallelWrites = 16;

    // Owner pins listed per unpinning round, and index pins written per round of the index's build (memory O(round)).
    private const int UnpinRound = 1_000;

    /// <summary>The owner of a job's pins.</summary>
    public static string JobOwner(string jobId) => "jobs/" + jobId;

    /// <summary>
    /// The folder of <paramref name="owner"/>'s pins (a job's <see cref="JobOwner"/>, or a line's blob prefix). It ends with
    /// '/', so an owner never takes another's pins whose name it begins (line "plate" and line "plate-b").
    /// </summary>
    public static string OwnerPrefix(string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return Prefix + OwnerName(owner) + "/";
    }

    /// <summary>Pins the feature-cache entries among <paramref name="entries"/> for <paramref name="owner"/> (other names are not the cache's and are passed over).</summary>
    /// <exception cref="BlobStoreException">The store failed; pins written by then stay.</exception>
    public static Task PinAsync(IBlobStore store, string owner, IEnumerable<string> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entries);
        var folder = OwnerPrefix(owner);
        var ownerName = OwnerName(owner);
        var keys = entries.Where(entry => entry.StartsWith(FeatureCacheKey.BlobPrefix, StringComparison.Ordinal))
            .Select(entry => entry[FeatureCacheKey.BlobPrefix.Length..])
            .Distinct(StringComparer.Ordinal);
        return Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (key, token) =>
            {
                await store.PutAsync(folder + key, Stream.Null, overwrite: true, token).ConfigureAwait(false);
                await store.PutAsync(IndexPin(key, ownerName), Stream.Null, overwrite: true, token).ConfigureAwait(false);
            });
    }

    /// <summary>Removes every pin of <paramref name="owner"/> and returns how many there were.</summary>
    /// <exception cref="BlobStoreException">The store failed; the pins not removed by then stay, and a second call removes them.</exception>
    public static Task<long> UnpinAsync(IBlobStore store, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var folder = OwnerPrefix(owner);
        var ownerName = OwnerName(owner);
        // Each owner's blob after its index twin (see the class).
        return store.DeletePrefixAsync(folder, keep: null, UnpinRound, cancellationToken,
            beforeDelete: async (pin, token) => await store.DeleteAsync(IndexPin(pin[folder.Length..], ownerName), token).ConfigureAwait(false));
    }

    /// <summary>Whether anything pins the cache entry <paramref name="entry"/> (one listing of at most a page).</summary>
    public static async Task<bool> IsPinnedAsync(IBlobStore store, string entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.StartsWith(FeatureCacheKey.BlobPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        await foreach (var _ in store.ListAsync(IndexPrefix + entry[FeatureCacheKey.BlobPrefix.Length..] + "/", cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        return false;
    }

    /// <summary>
    /// The cache entry (its name less <see cref="FeatureCacheKey.BlobPrefix"/>, e.g. <c>ab/ab12….bag</c>) that an index pin
    /// pins: its first two segments after <see cref="IndexPrefix"/>. Null for a name that is not an index pin.
    /// </summary>
    public static string? IndexedKey(string indexPin)
    {
        ArgumentNullException.ThrowIfNull(indexPin);
        if (!indexPin.StartsWith(IndexPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var first = indexPin.IndexOf('/', IndexPrefix.Length);
        var second = first < 0 ? -1 : indexPin.IndexOf('/', first + 1);
        return second < 0 ? null : indexPin[IndexPrefix.Length..second];
    }

    /// <summary>
    /// Builds the index from the owners' pins once, for a store whose pins were made before the index existed (they would
    /// otherwise not protect their entries); afterwards one existence check. Returns how many index pins it wrote.
    /// </summary>
    /// <remarks>
    /// Each index pin written is dropped again when its owner's blob is gone by then (an owner unpinned while this ran). An
    /// unpinning whose twin delete came just before the write and whose owner delete just after the check can still leave
    /// one index pin behind, which keeps its one entry from expiring (never the reverse). Pins an older release writes after
    /// the marker (a rollback) have no twins, and those it unpins leave theirs: delete the marker after such a rollback
    /// (docs/OPERATIONS.md), and the next call builds the index again and drops the index pins whose owner's blob is gone.
    /// </remarks>
    /// <exception cref="BlobStoreException">The store failed; the marker is not written, and the next call starts again.</exception>
    public static async Task<long> EnsureIndexAsync(IBlobStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (await store.ExistsAsync(IndexBuiltMarker, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }
        var written = 0L;
        var round = new List<(string OwnerPin, string IndexPin)>();
        async Task WriteRoundAsync()
        {
            await Parallel.ForEachAsync(round, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
                async (pin, token) =>
                {
                    await store.PutAsync(pin.IndexPin, Stream.Null, overwrite: true, token).ConfigureAwait(false);
                    if (!await store.ExistsAsync(pin.OwnerPin, token).ConfigureAwait(false))
                    {
                        await store.DeleteAsync(pin.IndexPin, token).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
            written += round.Count;
            round.Clear();
        }
        await foreach (var pin in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            // {owner}/{xx}/{hash}.bag: the entry is the last two segments; the owner before them may hold slashes.
            var last = pin.Name.LastIndexOf('/');
            var second = last > 0 ? pin.Name.LastIndexOf('/', last - 1) : -1;
            if (second > Prefix.Length)
            {
                round.Add((pin.Name, IndexPin(pin.Name[(second + 1)..], pin.Name[Prefix.Length..second])));
            }
            // Writes go to another prefix than the one listed, so they may run while the listing is open.
            if (round.Count == UnpinRound)
            {
                await WriteRoundAsync().ConfigureAwait(false);
            }
        }
        await WriteRoundAsync().ConfigureAwait(false);
        await DropOrphanIndexPinsAsync(store, cancellationToken).ConfigureAwait(false);
        await store.PutAsync(IndexBuiltMarker, Stream.Null, overwrite: true, cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// Deletes the index pins whose owner's blob is gone: an older release's unpinning (a rollback) removes the owner's blobs
    /// only. Checked a round at a time beside the listing; the orphans (few: a rollback's window) are deleted after it.
    /// </summary>
    private static async Task DropOrphanIndexPinsAsync(IBlobStore store, CancellationToken cancellationToken)
    {
        var orphans = new System.Collections.Concurrent.ConcurrentBag<string>();
        var round = new List<string>();
        async Task CheckRoundAsync()
        {
            await Parallel.ForEachAsync(round, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
                async (indexPin, token) =>
                {
                    if (OwnerPinOf(indexPin) is { } ownerPin && !await store.ExistsAsync(ownerPin, token).ConfigureAwait(false))
                    {
                        orphans.Add(indexPin);
                    }
                }).ConfigureAwait(false);
            round.Clear();
        }
        await foreach (var pin in store.ListAsync(IndexPrefix, cancellationToken).ConfigureAwait(false))
        {
            round.Add(pin.Name);
            if (round.Count == UnpinRound)
            {
                await CheckRoundAsync().ConfigureAwait(false);
            }
        }
        await CheckRoundAsync().ConfigureAwait(false);
        await Parallel.ForEachAsync(orphans, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (indexPin, token) => await store.DeleteAsync(indexPin, token).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>The owner's blob of an index pin (<c>{IndexPrefix}{key}/{owner}</c> to <c>{Prefix}{owner}/{key}</c>); null for another name.</summary>
    private static string? OwnerPinOf(string indexPin) =>
        IndexedKey(indexPin) is { } key && indexPin.Length > IndexPrefix.Length + key.Length + 1
            ? Prefix + indexPin[(IndexPrefix.Length + key.Length + 1)..] + "/" + key
            : null;

    private static string OwnerName(string owner) => owner.TrimEnd('/');

    private static string IndexPin(string key, string ownerName) => IndexPrefix + key + "/" + ownerName;
}
