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

    /// <summary>Deletes every blob whose name starts with <paramref name="prefix"/>: what a job or an upload left.</summary>
    public static async Task DeletePrefixAsync(this IBlobStore store, string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        // Listed first: deleting while listing could skip names on stores that page by position.
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            names.Add(entry.Name);
        }
        await store.DeleteAllAsync(names, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many deletions <see cref="DeleteAllAsync"/> keeps in flight.</summary>
    public const int ParallelDeletions = 16;

    /// <summary>
    /// Deletes the blobs <paramref name="names"/>, <see cref="ParallelDeletions"/> at a time: a job of 10^5 images leaves
    /// about as many blobs, and one round trip after the other made deleting it take minutes.
    /// </summary>
    public static async Task DeleteAllAsync(this IBlobStore store, IEnumerable<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(names);
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = ParallelDeletions, CancellationToken = cancellationToken },
            async (name, token) => await store.DeleteAsync(name, token).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
