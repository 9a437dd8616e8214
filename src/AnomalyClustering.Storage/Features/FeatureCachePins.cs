namespace AnomalyClustering.Storage;

/// <summary>
/// Pins that keep feature-cache entries from expiring (<see cref="FeatureCacheExpiry"/>) while something that needs them
/// exists. A cache entry's age is that of its first write (a hit does not rewrite it), so without pins a retention time would
/// expire the reference or normal bags of a job that started yesterday over images first seen a month ago, and the bags a
/// production line scores every new image against. A job pins its reference and normal bags for as long as it exists, a
/// line the bags of its catalogs. A pin is an empty blob <c>features/pins/{owner}/{xx}/{hash}.bag</c> per entry (outside
/// <see cref="FeatureCacheKey.BlobPrefix"/>, so never an entry itself): one listing of <see cref="Prefix"/> gives every pinned
/// entry, and an owner's pins go with one prefix deletion.
/// </summary>
public static class FeatureCachePins
{
    /// <summary>Where pins are kept.</summary>
    public const string Prefix = "features/pins/";

    // Pins written at once: a job in exact-score mode pins every image's bag.
    private const int ParallelWrites = 16;

    /// <summary>The owner of a job's pins.</summary>
    public static string JobOwner(string jobId) => "jobs/" + jobId;

    /// <summary>
    /// The folder of <paramref name="owner"/>'s pins (a job's <see cref="JobOwner"/>, or a line's blob prefix). It ends with
    /// '/', so an owner never takes another's pins whose name it begins (line "plate" and line "plate-b").
    /// </summary>
    public static string OwnerPrefix(string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return Prefix + owner.TrimEnd('/') + "/";
    }

    /// <summary>Pins the feature-cache entries among <paramref name="entries"/> for <paramref name="owner"/> (other names are not the cache's and are passed over).</summary>
    /// <exception cref="BlobStoreException">The store failed; pins written by then stay.</exception>
    public static Task PinAsync(IBlobStore store, string owner, IEnumerable<string> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entries);
        var folder = OwnerPrefix(owner);
        var pins = entries.Where(entry => entry.StartsWith(FeatureCacheKey.BlobPrefix, StringComparison.Ordinal))
            .Select(entry => folder + entry[FeatureCacheKey.BlobPrefix.Length..])
            .Distinct(StringComparer.Ordinal);
        return Parallel.ForEachAsync(pins, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (pin, token) => await store.PutAsync(pin, Stream.Null, overwrite: true, token).ConfigureAwait(false));
    }

    /// <summary>Removes every pin of <paramref name="owner"/> and returns how many there were.</summary>
    public static Task<long> UnpinAsync(IBlobStore store, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.DeletePrefixAsync(OwnerPrefix(owner), cancellationToken);
    }

    /// <summary>Every pinned entry's blob name (one listing of the pins).</summary>
    public static async Task<HashSet<string>> PinnedEntriesAsync(IBlobStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var pinned = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var pin in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            // The entry is the pin's last two segments ({xx}/{hash}.bag); the owner before them may hold slashes.
            var last = pin.Name.LastIndexOf('/');
            var second = last > 0 ? pin.Name.LastIndexOf('/', last - 1) : -1;
            if (second >= Prefix.Length)
            {
                pinned.Add(FeatureCacheKey.BlobPrefix + pin.Name[(second + 1)..]);
            }
        }
        return pinned;
    }
}
