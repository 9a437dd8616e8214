namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>
/// Where a report keeps the thumbnails and heat maps it made, so that the next report of the same images (or the same
/// job) does not decode them again, and how the page links to them. Keys come from <see cref="ThumbnailKeys"/>: they
/// name the content (image bytes, size, alpha map), so an entry never goes stale.
/// </summary>
public interface IThumbnailCache
{
    /// <summary>The JPEG stored under <paramref name="key"/>, or null when there is none.</summary>
    Task<byte[]?> TryGetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores a JPEG under <paramref name="key"/> (replacing any).</summary>
    Task PutAsync(string key, byte[] jpeg, CancellationToken cancellationToken = default);

    /// <summary>
    /// The address the report page loads the entry from (relative to the report, or absolute), or null when the page
    /// cannot reach the cache and must carry the image inline.
    /// </summary>
    string? LinkFor(string key);
}
