namespace AnomalyClustering.Storage;

/// <summary>Reads and clean-ups that every caller of a blob store would otherwise write again.</summary>
public static class BlobStoreExtensions
{
    /// <summary>
    /// The whole blob as bytes, refusing blobs over <paramref name="maxBytes"/> before holding them (by length when the
    /// stream knows it, else while reading). One array of the final size when the length is known.
    /// </summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="BlobTooLargeException">The blob is larger than <paramref name="maxBytes"/>.</exception>
    public static async Task<byte[]> ReadAllBytesAsync(this IBlobStore store, string name, long maxBytes = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var stream = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        if (stream.CanSeek)
        {
            var length = stream.Length - stream.Position;
            if (length > maxBytes)
            {
                throw new BlobTooLargeException(name, maxBytes);
            }
            var bytes = new byte[length];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return bytes;
        }
        var (head, complete) = await PrefixedStream.ReadHeadAsync(stream, (int)Math.Min(maxBytes, Array.MaxLength), cancellationToken).ConfigureAwait(false);
        using (head)
        {
            return complete ? head.ToArray() : throw new BlobTooLargeException(name, maxBytes);
        }
    }

    /// <summary>Whether any blob's name starts with <paramref name="prefix"/> (one listing, stopped at its first name).</summary>
    public static async Task<bool> AnyUnderAsync(this IBlobStore store, string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await foreach (var _ in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        return false;
    }

    /// <summary>Deletes every blob whose name starts with <paramref name="prefix"/>: what a job or an upload left. Returns how many it deleted.</summary>
    public static Task<long> DeletePrefixAsync(this IBlobStore store, string prefix, CancellationToken cancellationToken = default) =>
        DeletePrefixAsync(store, prefix, keep: null, DeletionBatch, cancellationToken);

    /// <summary>Names <see cref="DeletePrefixAsync(IBlobStore, string, CancellationToken)"/> lists, and then deletes, per round.</summary>
    public const int DeletionBatch = 10_000;

    /// <summary>
    /// Deletes every blob under <paramref name="prefix"/> that <paramref name="keep"/> (null: none) does not keep, in rounds:
    /// up to <paramref name="batchSize"/> names listed, those deleted, then the listing starts again. Memory is O(batch) at
    /// any count (a million-image job's million names were held at once), and no deletion runs beside a listing (a store
    /// that pages by position could skip names). Ends when a listing finds nothing more to delete, or when a round deleted
    /// none of the names it listed (a store that lists what it cannot delete would otherwise be asked forever). Returns how
    /// many blobs it deleted. <paramref name="deletedInRound"/> hears each round's count as it ends (a deletion of a million
    /// blobs takes minutes, and its caller shows how far it got). <paramref name="beforeDelete"/> runs for each name just before
    /// its delete (what must go first: a pin's index twin); a name whose step throws is not deleted, and the error ends the call.
    /// </summary>
    public static async Task<long> DeletePrefixAsync(
        this IBlobStore store, string prefix, Func<string, bool>? keep, int batchSize, CancellationToken cancellationToken = default, Action<long>? deletedInRound = null,
        Func<string, CancellationToken, Task>? beforeDelete = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var total = 0L;
        while (true)
        {
            var names = new List<string>();
            await foreach (var entry in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                if (keep?.Invoke(entry.Name) == true)
                {
                    continue;
                }
                names.Add(entry.Name);
                if (names.Count == batchSize)
                {
                    break;
                }
            }
            var deleted = 0;
            await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = ParallelDeletions, CancellationToken = cancellationToken },
                async (name, token) =>
                {
                    if (beforeDelete is not null)
                    {
                        await beforeDelete(name, token).ConfigureAwait(false);
                    }
                    if (await store.DeleteAsync(name, token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref deleted);
                    }
                }).ConfigureAwait(false);
            total += deleted;
            deletedInRound?.Invoke(deleted);
            if (names.Count < batchSize || deleted == 0)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// How many deletions <see cref="DeletePrefixAsync(IBlobStore, string, Func{string, bool}, int, CancellationToken, Action{long}, Func{string, CancellationToken, Task})"/> keeps
    /// in flight: a job of 10^5 images leaves about as many blobs, and one round trip after the other made deleting it take minutes.
    /// </summary>
    public const int ParallelDeletions = 16;
}
