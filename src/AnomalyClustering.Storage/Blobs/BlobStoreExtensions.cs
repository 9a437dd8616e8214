namespace AnomalyClustering.Storage;

/// <summary>Reads that every caller of a blob store would otherwise write again.</summary>
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
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new BlobTooLargeException(name, maxBytes);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
