using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Storage;

/// <summary>A corrupt feature-cache entry that was read and treated as a miss.</summary>
/// <param name="Key">The key whose entry is corrupt.</param>
/// <param name="BlobName">The entry's blob.</param>
/// <param name="Error">What is wrong with it.</param>
public sealed record FeatureCacheCorruptEntry(FeatureCacheKey Key, string BlobName, FeatureCacheFormatException Error);

/// <summary>
/// Patch embeddings cached as blobs in <see cref="PatchBagFormat"/> under <see cref="FeatureCacheKey.BlobName"/>,
/// so that an image seen before with the same backbone and settings skips embedding. A corrupt entry is a miss
/// (reported through <see cref="CorruptEntryFound"/> and <see cref="CorruptEntries"/>); the next
/// <see cref="PutAsync"/> replaces it. Safe for concurrent use: writers of one key write equal bytes, atomically.
/// </summary>
public sealed class FeatureCache
{
    private readonly IBlobStore store;
    private long hits;
    private long misses;
    private long corruptEntries;
    private long writes;

    /// <summary>A cache whose entries live in <paramref name="store"/>.</summary>
    public FeatureCache(IBlobStore store)
    {
        this.store = store ?? throw new ArgumentNullException(nameof(store));
    }

    /// <summary>Raised when an entry exists but cannot be read as a bag (it then counts as a miss).</summary>
    public event EventHandler<FeatureCacheCorruptEntry>? CorruptEntryFound;

    /// <summary>Lookups that returned a bag.</summary>
    public long Hits => Interlocked.Read(ref hits);

    /// <summary>Lookups that returned null: no entry, or a corrupt one.</summary>
    public long Misses => Interlocked.Read(ref misses);

    /// <summary>Lookups that found a corrupt entry (each also counts in <see cref="Misses"/>).</summary>
    public long CorruptEntries => Interlocked.Read(ref corruptEntries);

    /// <summary>Entries written.</summary>
    public long Writes => Interlocked.Read(ref writes);

    /// <summary>The cached bag for <paramref name="key"/>, or null when there is none or it is corrupt.</summary>
    /// <exception cref="BlobStoreException">The store failed (not a miss: a broken store should be noticed).</exception>
    public async Task<PatchBag?> TryGetAsync(FeatureCacheKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(key.BlobName, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            Interlocked.Increment(ref misses);
            return null;
        }
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                var bag = await PatchBagFormat.ReadAsync(stream, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref hits);
                return bag;
            }
            catch (FeatureCacheFormatException e)
            {
                Interlocked.Increment(ref misses);
                Interlocked.Increment(ref corruptEntries);
                CorruptEntryFound?.Invoke(this, new FeatureCacheCorruptEntry(key, key.BlobName, e));
                return null;
            }
        }
    }

    /// <summary>Stores <paramref name="bag"/> as the entry for <paramref name="key"/>, replacing any entry there. Cost: one encoded copy in memory.</summary>
    public async Task PutAsync(FeatureCacheKey key, PatchBag bag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(bag);
        using var encoded = new MemoryStream(PatchBagFormat.ToBytes(bag), writable: false);
        await store.PutAsync(key.BlobName, encoded, overwrite: true, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref writes);
    }
}
