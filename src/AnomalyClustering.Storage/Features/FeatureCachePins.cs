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

    // Pins listed per round of an unpinning or of the index's build (memory O(round)).
    private const int Round = 1_000;

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

    /// <summary>
    /// Removes every pin of <paramref name="owner"/>, and of the owners named below it (a line's pins are kept per creation
    /// of a catalog, <c>{line prefix}{creation}</c>, so that a creation that fails removes its own pins only), and returns
    /// how many there were.
    /// </summary>
    /// <exception cref="BlobStoreException">The store failed; the pins not removed by then stay, and a second call removes them.</exception>
    public static Task<long> UnpinAsync(IBlobStore store, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var folder = OwnerPrefix(owner);
        var ownerName = OwnerName(owner);
        // Each owner's blob after its index twin (see the class); a pin's own owner may be one named below this one.
        return store.DeletePrefixAsync(folder, keep: null, Round, cancellationToken,
            beforeDelete: async (pin, token) => await store.DeleteAsync(IndexPinOf(pin) ?? IndexPin(pin[folder.Length..], ownerName), token).ConfigureAwait(false));
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
        return await store.AnyUnderAsync(IndexPrefix + entry[FeatureCacheKey.BlobPrefix.Length..] + "/", cancellationToken).ConfigureAwait(false);
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
    /// The cache entries among <paramref name="entries"/> that do not exist. A pin protects an entry only from when it is
    /// written: an entry read before its pin (a cache hit) may have expired in between, so a caller that pins what it read
    /// asks this after <see cref="PinAsync"/> and writes the missing entries again (pinned already, they stay).
    /// </summary>
    public static async Task<IReadOnlySet<string>> MissingAsync(IBlobStore store, IEnumerable<string> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entries);
        var missing = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(entries.Where(entry => entry.StartsWith(FeatureCacheKey.BlobPrefix, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (entry, token) =>
            {
                if (!await store.ExistsAsync(entry, token).ConfigureAwait(false))
                {
                    missing[entry] = true;
                }
            }).ConfigureAwait(false);
        return missing.Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Builds the index from the owners' pins once, for a store whose pins were made before the index existed (they would
    /// otherwise not protect their entries), then drops the index pins whose owner's blob is gone (an owner unpinned while
    /// this ran, or by an older release after a rollback: it removes the owners' blobs only); afterwards one existence
    /// check. Returns how many index pins it wrote.
    /// </summary>
    /// <remarks>
    /// An unpinning whose twin delete came just before the build's write and whose owner delete just after the orphan walk
    /// passed that name can still leave one index pin behind, which keeps its one entry from expiring (never the reverse).
    /// Pins an older release writes after the marker (a rollback) have no twins: delete the marker after such a rollback
    /// (docs/OPERATIONS.md), and the next call builds the index again.
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
        // Writes go to another prefix than the one listed, so they may run while the listing is open.
        await ForEachListedAsync(store, Prefix, async (ownerPin, token) =>
        {
            if (IndexPinOf(ownerPin) is { } indexPin)
            {
                await store.PutAsync(indexPin, Stream.Null, overwrite: true, token).ConfigureAwait(false);
                Interlocked.Increment(ref written);
            }
        }, cancellationToken).ConfigureAwait(false);
        // The orphans (few) are deleted after the listing of their prefix, not beside it.
        var orphans = new System.Collections.Concurrent.ConcurrentBag<string>();
        await ForEachListedAsync(store, IndexPrefix, async (indexPin, token) =>
        {
            if (OwnerPinOf(indexPin) is { } ownerPin && !await store.ExistsAsync(ownerPin, token).ConfigureAwait(false))
            {
                orphans.Add(indexPin);
            }
        }, cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(orphans, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (indexPin, token) => await store.DeleteAsync(indexPin, token).ConfigureAwait(false)).ConfigureAwait(false);
        await store.PutAsync(IndexBuiltMarker, Stream.Null, overwrite: true, cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the name of every blob under <paramref name="prefix"/>, a round of listed names at a
    /// time (the listing waits while its round runs, up to <see cref="ParallelWrites"/> at once): memory O(round) at any count.
    /// </summary>
    private static async Task ForEachListedAsync(IBlobStore store, string prefix, Func<string, CancellationToken, ValueTask> action, CancellationToken cancellationToken)
    {
        var round = new List<string>(Round);
        async Task RunRoundAsync()
        {
            await Parallel.ForEachAsync(round, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken }, action)
                .ConfigureAwait(false);
            round.Clear();
        }
        await foreach (var blob in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            round.Add(blob.Name);
            if (round.Count == Round)
            {
                await RunRoundAsync().ConfigureAwait(false);
            }
        }
        await RunRoundAsync().ConfigureAwait(false);
    }

    /// <summary>The index twin of an owner's pin (<c>{Prefix}{owner}/{key}</c> to <c>{IndexPrefix}{key}/{owner}</c>); null for another name.</summary>
    private static string? IndexPinOf(string ownerPin)
    {
        // The key is the last two segments ({xx}/{hash}.bag); the owner before them may hold slashes.
        var last = ownerPin.LastIndexOf('/');
        var second = last > 0 ? ownerPin.LastIndexOf('/', last - 1) : -1;
        return ownerPin.StartsWith(Prefix, StringComparison.Ordinal) && second > Prefix.Length
            ? IndexPin(ownerPin[(second + 1)..], ownerPin[Prefix.Length..second])
            : null;
    }

    /// <summary>The owner's blob of an index pin (<c>{IndexPrefix}{key}/{owner}</c> to <c>{Prefix}{owner}/{key}</c>); null for another name.</summary>
    private static string? OwnerPinOf(string indexPin) =>
        IndexedKey(indexPin) is { } key && indexPin.Length > IndexPrefix.Length + key.Length + 1
            ? Prefix + indexPin[(IndexPrefix.Length + key.Length + 1)..] + "/" + key
            : null;

    private static string OwnerName(string owner) => owner.TrimEnd('/');

    private static string IndexPin(string key, string ownerName) => IndexPrefix + key + "/" + ownerName;
}
