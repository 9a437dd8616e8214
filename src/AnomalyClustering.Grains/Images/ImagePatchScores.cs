using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Images;

/// <summary>
/// An image's raw patch scores s_ik as its grain left them in the job's outcome blob: what pixel anomaly maps are made of,
/// read by whoever evaluates a job against ground-truth masks before the job's blobs are removed.
/// </summary>
public static class ImagePatchScores
{
    /// <summary>
    /// The patch scores of image <paramref name="imageIndex"/> (its place in the job's manifest), row-major on the patch
    /// grid; null when the job has none (average mode, or an outcome written before patch scores were kept).
    /// </summary>
    /// <exception cref="InvalidDataException">The outcome blob is not a valid outcome.</exception>
    public static async Task<float[]?> ReadAsync(IBlobStore store, string jobId, int imageIndex, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var bytes = await store.ReadAllBytesAsync(JobBlobNames.ImageOutcome(jobId, imageIndex), cancellationToken: cancellationToken).ConfigureAwait(false);
        return ImageOutcomeFormat.PatchScoresFromBytes(bytes);
    }
}
