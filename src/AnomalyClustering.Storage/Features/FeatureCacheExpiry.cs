namespace AnomalyClustering.Storage;

/// <summary>
/// Expires feature-cache entries (<see cref="FeatureCacheKey.BlobPrefix"/>) by the time they were written: the entries
/// are content-keyed and shared by every job over the same images, so no job's deletion removes them; a retention time
/// does. An entry read again (a cache hit) is not rewritten, so its age is that of its first write; an entry a job or a
/// production line still needs is pinned (<see cref="FeatureCachePins"/>) and never expires.
/// </summary>
/// <remarks>Two listings of the pins (before and after) and one of the cache's blobs per pass, memory O(pins); at most the bound's deletes. A pin written while the deletes run does not stop them (a window of one pass's deletes).</remarks>
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
        var pinned = await FeatureCachePins.PinnedEntriesAsync(store, cancellationToken).ConfigureAwait(false);
        var expired = new List<string>();
        await foreach (var entry in store.ListAsync(FeatureCacheKey.BlobPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (expired.Count == maxEntries)
            {
                break;
            }
            if (entry.LastModified < writtenBefore && !pinned.Contains(entry.Name))
            {
                expired.Add(entry.Name);
            }
        }
        // After the listing, not during it: a store need not allow deletes under a listing that is still open. The pins are
        // read again first: a job that started during a long listing may have pinned old entries since the first read.
        pinned = await FeatureCachePins.PinnedEntriesAsync(store, cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        foreach (var name in expired.Where(name => !pinned.Contains(name)))
        {
            deleted += await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }
        return deleted;
    }
}
