using AnomalyClustering.Storage;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>
/// Thumbnails as blobs (<c>thumbnails/&lt;key&gt;</c> in the cluster's store), for reports the HTTP API serves: made once
/// per image content and size, shared by every job and silo. The page links to them through
/// <paramref name="linkTemplate"/> ("{key}" is replaced, e.g. <c>/thumbnails/{key}</c> on the API), or carries them
/// inline when there is none.
/// </summary>
/// <param name="store">The blob store.</param>
/// <param name="prefix">Blob name prefix of the entries.</param>
/// <param name="linkTemplate">How the page addresses an entry, with "{key}" for its key; null to inline every image.</param>
public sealed class BlobThumbnailCache(IBlobStore store, string prefix = "thumbnails/", string? linkTemplate = null) : IThumbnailCache
{
    /// <inheritdoc />
    public async Task<byte[]?> TryGetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.ReadAllBytesAsync(prefix + ThumbnailKeys.Check(key), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        using var content = new MemoryStream(jpeg, writable: false);
        await store.PutAsync(prefix + ThumbnailKeys.Check(key), content, overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public string? LinkFor(string key) => linkTemplate?.Replace("{key}", Uri.EscapeDataString(ThumbnailKeys.Check(key)), StringComparison.Ordinal);
}
