namespace AnomalyClustering.Storage;

/// <summary>
/// Expires feature-cache entries (<see cref="FeatureCacheKey.BlobPrefix"/>) by the time they were written: the entries
/// are content-keyed and shared by every job over the same images, so no job's deletion removes them; a retention time
/// does. An entry read again (a cache hit) is not rewritten, so its age is that of its first write; an entry a job or a
/// production line still needs is pinned (<see cref="FeatureCachePins"/>) and never expires.
/// </summary>
/// <remarks>
/// One pass lists the cache's entries and the pin index side by side (both in ordinal order of the entry), so its memory is
/// the bound's names at any number of entries or pins; then each chosen entry's pins are listed once more just before it is
/// deleted (a pin written during the long listing protects it). A pin written between that check and the delete does not
/// (a window of one delete).
/// </remarks>
public static class FeatureCacheExpiry
{
    /// <summary>
    /// Deletes up to <paramref name="maxEntries"/> unpinned entries written before <paramref name="writtenBefore"/>, in listing
    /// order, and returns how many it deleted.
    /// </summary>
    /// <exception cref="BlobStoreException">The store failed (the entries deleted by then stay deleted).</exception>
    public static async Task<int> DeleteWrittenBeforeAsync(IBlobStore store, DateTimeOffset writtenBefore, int maxEntries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        if (maxEntries == 0)
        {
            return 0;
        }
        await FeatureCachePins.EnsureIndexAsync(store, cancellationToken).ConfigureAwait(false);
        var expired = await UnpinnedEntriesWrittenBeforeAsync(store, writtenBefore, maxEntries, cancellationToken).ConfigureAwait(false);
        // After the listings, not during them: a store need not allow deletes under a listing that is still open.
        var deleted = 0;
        await Parallel.ForEachAsync(expired, new ParallelOptions { MaxDegreeOfParallelism = BlobStoreExtensions.ParallelDeletions, CancellationToken = cancellationToken },
            async (name, token) =>
            {
                if (!await FeatureCachePins.IsPinnedAsync(store, name, token).ConfigureAwait(false) && await store.DeleteAsync(name, token).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref deleted);
                }
            }).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>The first <paramref name="maxEntries"/> entries written before the time that no index pin names, by a merge of the two listings.</summary>
    private static async Task<List<string>> UnpinnedEntriesWrittenBeforeAsync(IBlobStore store, DateTimeOffset writtenBefore, int maxEntries, CancellationToken cancellationToken)
    {
        var expired = new List<string>();
        await using var pins = store.ListAsync(FeatureCachePins.IndexPrefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
        // The key of the index pin the walk stands on: every pinned key before it has been passed; null once the pins ran out.
        string? pinnedKey = null;
        var pinsLeft = true;
        async Task AdvancePinsAsync()
        {
            pinnedKey = null;
            while (pinsLeft && pinnedKey is null)
            {
                pinsLeft = await pins.MoveNextAsync().ConfigureAwait(false);
                pinnedKey = pinsLeft ? FeatureCachePins.IndexedKey(pins.Current.Name) : null;
            }
        }
        await AdvancePinsAsync().ConfigureAwait(false);
        await foreach (var entry in store.ListAsync(FeatureCacheKey.BlobPrefix, cancellationToken).ConfigureAwait(false))
        {
            // Keys are all {xx}/{64 hex}.bag, none a prefix of another, so the index's order (key, then "/owner") is the
            // keys' order. A name of another shape could be passed over by the merge; the recheck before the delete holds.
            var key = entry.Name[FeatureCacheKey.BlobPrefix.Length..];
            while (pinnedKey is not null && string.CompareOrdinal(pinnedKey, key) < 0)
            {
                await AdvancePinsAsync().ConfigureAwait(false);
            }
            if (entry.LastModified >= writtenBefore || string.Equals(pinnedKey, key, StringComparison.Ordinal))
            {
                continue;
            }
            expired.Add(entry.Name);
            if (expired.Count == maxEntries)
            {
                break;
            }
        }
        return expired;
    }
}
