namespace AnomalyClustering.Storage;

/// <summary>One blob as a listing reports it.</summary>
/// <param name="Name">The blob's name ('/'-separated, see <see cref="BlobName"/>).</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="LastModified">When it was last written.</param>
public sealed record BlobEntry(string Name, long Size, DateTimeOffset LastModified);

/// <summary>
/// A flat store of named byte blobs (images, feature caches, results), streamed in and out. Names follow
/// <see cref="BlobName"/>; a write is atomic, so readers see the old content or the new, never a mixture.
/// Implementations: <see cref="AzureBlobStore"/> for a cluster, <see cref="LocalDirectoryBlobStore"/> for embedded mode.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Writes <paramref name="content"/> (read from its current position to its end) as blob <paramref name="name"/>.
    /// With <paramref name="overwrite"/> false the write is a conditional create: it fails when the blob exists.
    /// </summary>
    /// <exception cref="InvalidBlobNameException">The name breaks the naming rules.</exception>
    /// <exception cref="BlobAlreadyExistsException"><paramref name="overwrite"/> is false and the blob exists.</exception>
    Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default);

    /// <summary>Opens blob <paramref name="name"/> for reading; the caller disposes the stream.</summary>
    /// <exception cref="InvalidBlobNameException">The name breaks the naming rules.</exception>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens blob <paramref name="name"/> for reading at any position: a seekable stream that fetches only the ranges the
    /// caller reads (a Parquet reader reads the footer, then the row groups it is asked for), not the whole blob. The blob
    /// is expected not to change while it is read (a store may fail the read if it does). The caller disposes the stream.
    /// This default reads the whole blob into memory (what a wrapper that does not pass it through gets); the stores
    /// themselves read ranges.
    /// </summary>
    /// <exception cref="InvalidBlobNameException">The name breaks the naming rules.</exception>
    /// <exception cref="BlobNotFoundException">No such blob (when opened, or deleted while it is read).</exception>
    async Task<Stream> OpenSeekableReadAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        var whole = new MemoryStream();
        await stream.CopyToAsync(whole, cancellationToken).ConfigureAwait(false);
        whole.Position = 0;
        return whole;
    }

    /// <summary>Whether blob <paramref name="name"/> exists.</summary>
    /// <exception cref="InvalidBlobNameException">The name breaks the naming rules.</exception>
    Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// The blobs whose names start with <paramref name="prefix"/> (a plain string prefix, "" for all), in ordinal
    /// order of their names, fetched lazily as the caller enumerates.
    /// </summary>
    /// <exception cref="InvalidBlobNameException">The prefix cannot start a valid name.</exception>
    IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default);

    /// <summary>Deletes blob <paramref name="name"/>; true when it existed.</summary>
    /// <exception cref="InvalidBlobNameException">The name breaks the naming rules.</exception>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);
}
