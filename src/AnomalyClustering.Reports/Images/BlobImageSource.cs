using AnomalyClustering.Storage;

namespace AnomalyClustering.Reports.Images;

/// <summary>Images as blobs of the cluster's store, by image id (the job's images as submitted): the HTTP API's reports.</summary>
/// <param name="store">The blob store.</param>
/// <param name="blobsById">Image id to blob name; an id not in the map has no image.</param>
public sealed class BlobImageSource(IBlobStore store, IReadOnlyDictionary<string, string> blobsById) : IReportImageSource
{
    /// <inheritdoc />
    public async Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default)
    {
        if (!blobsById.TryGetValue(imageId, out var blob))
        {
            return null;
        }
        try
        {
            return await store.ReadAllBytesAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            // Deleted by a retention policy since the job ran: the report shows a placeholder instead of failing.
            return null;
        }
    }
}
