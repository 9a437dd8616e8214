using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// What the served report (<c>GET /jobs/{id}/report</c>) reads besides the summary: the result's report digest and the
/// result built from it, and the pictured images' blobs. With a digest a render reads O(K x M + top of the tree) bytes
/// of the result and at most one manifest chunk per pictured image, whatever N is.
/// </summary>
internal static class ServedReportReads
{
    /// <summary>
    /// The pictured images' blobs and manifest indices. A digest's rows carry their manifest indices, so only the manifest
    /// chunks holding them are read (at most one per pictured image, whatever N is); otherwise one streaming pass over the
    /// manifest finds them. A recovered job's coordinator no longer knows its manifest: its images' blobs are the job's
    /// dataset prefix plus their ids.
    /// </summary>
    public static async Task<(Dictionary<string, string> Blobs, Dictionary<string, int> Indices)> PicturedBlobsAsync(
        IGrainFactory grains, IBlobStore store, JobStatus status, IReadOnlySet<string> pictured, ReportDigest? digest, bool recovered,
        CancellationToken cancellationToken)
    {
        var blobsById = new Dictionary<string, string>(StringComparer.Ordinal);
        var indexById = new Dictionary<string, int>(StringComparer.Ordinal);
        if (recovered)
        {
            foreach (var id in pictured)
            {
                blobsById[id] = status.Source + id;
            }
            return (blobsById, indexById);
        }
        if (await grains.GetGrain<IClusteringJobGrain>(status.JobId).GetManifest().ConfigureAwait(false) is not { } manifest)
        {
            return (blobsById, indexById);
        }
        var rows = digest?.Rows.Where(row => pictured.Contains(row.Id)).ToList();
        if (rows is not null && rows.All(row => row.ImageIndex is not null))
        {
            foreach (var chunk in rows.GroupBy(row => row.ImageIndex!.Value / manifest.ChunkSize))
            {
                var images = await JobManifestStore.ReadImageChunkAsync(store, manifest, chunk.Key, cancellationToken).ConfigureAwait(false);
                foreach (var row in chunk)
                {
                    blobsById[row.Id] = images[row.ImageIndex!.Value % manifest.ChunkSize].BlobName;
                    indexById[row.Id] = row.ImageIndex.Value;
                }
            }
            return (blobsById, indexById);
        }
        // The manifest lists the images in index order: an image's position is its outcome blob's index.
        var index = 0;
        await foreach (var image in JobManifestStore.ReadImagesAsync(store, manifest, cancellationToken).ConfigureAwait(false))
        {
            if (pictured.Contains(image.Id))
            {
                blobsById[image.Id] = image.BlobName;
                indexById[image.Id] = index;
            }
            index++;
        }
        return (blobsById, indexById);
    }

    /// <summary>The report digest beside the result's summary; null for a result written before digests existed (or a legacy full document).</summary>
    public static async Task<ReportDigest?> TryReadDigestAsync(IBlobStore store, JobStatus status, CancellationToken cancellationToken)
    {
        var folder = status.ResultBlob![..(status.ResultBlob!.LastIndexOf('/') + 1)];
        try
        {
            await using var stream = await store.OpenReadAsync(folder + ReportDigest.FileName, cancellationToken).ConfigureAwait(false);
            return ReportDigest.Read(stream);
        }
        catch (Exception e) when (e is BlobNotFoundException or InvalidDataException)
        {
            // No digest, or one of another format: the whole result still renders (today's O(N) read).
            return null;
        }
    }

    /// <summary>The result a report shows, from the summary and the digest only (<see cref="ResultFolder.ReadForReport"/>).</summary>
    public static async Task<(ClusteringResult Result, ResultSource Source)> ReadFromDigestAsync(
        IBlobStore store, JobStatus status, ReportDigest digest, CancellationToken cancellationToken)
    {
        await using var summary = await JobApi.OpenResultAsync(store, status, cancellationToken).ConfigureAwait(false);
        using var buffered = new MemoryStream();
        await summary.CopyToAsync(buffered, cancellationToken).ConfigureAwait(false);
        buffered.Position = 0;
        return ResultFolder.ReadForReport(buffered, digest);
    }
}
