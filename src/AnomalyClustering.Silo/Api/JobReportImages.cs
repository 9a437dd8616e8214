using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Reports.Images;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// The pictured images of a job's served report: each one's file by its blob, and its alpha map from its outcome blob by
/// its index in the job's manifest (results of more than 20,000 images keep no alpha file, so this is where heat maps of
/// large jobs come from).
/// </summary>
/// <param name="store">The job's store.</param>
/// <param name="jobId">The job.</param>
/// <param name="blobsById">The pictured images' blobs.</param>
/// <param name="indexById">The pictured images' manifest indices; empty for a recovered job (its outcomes are gone).</param>
internal sealed class JobReportImages(IBlobStore store, string jobId, IReadOnlyDictionary<string, string> blobsById, IReadOnlyDictionary<string, int> indexById)
    : IReportImageSource
{
    private readonly BlobImageSource _files = new(store, blobsById);

    /// <inheritdoc />
    public Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default) => _files.ReadAsync(imageId, cancellationToken);

    /// <inheritdoc />
    public async Task<float[]?> ReadAlphaMapAsync(string imageId, CancellationToken cancellationToken = default) =>
        indexById.TryGetValue(imageId, out var index)
            ? await JobResultFiles.ReadAlphaMapAsync(store, jobId, index, cancellationToken).ConfigureAwait(false)
            : null;
}
