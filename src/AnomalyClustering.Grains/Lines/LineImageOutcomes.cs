using AnomalyClustering.Grains.Images;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Lines;

/// <summary>What the image grain left behind for a line's image (<c>outcomes/{imageId}.bin</c> under the line): its patch weights, for heat maps.</summary>
public static class LineImageOutcomes
{
    /// <summary>The blob of image <paramref name="imageId"/>'s outcome under the line prefix <paramref name="prefix"/>.</summary>
    public static string BlobOf(string prefix, string imageId) => prefix + "outcomes/" + imageId + ".bin";

    /// <summary>
    /// The patch weights alpha (row-major on the patch grid) of the image, or null when its outcome is missing or unreadable
    /// (an image decided as an error, a blob removed by hand).
    /// </summary>
    public static async Task<float[]?> ReadPatchWeightsAsync(IBlobStore store, string prefix, string imageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            var bytes = await store.ReadAllBytesAsync(BlobOf(prefix, imageId), cancellationToken: cancellationToken).ConfigureAwait(false);
            var weights = ImageOutcomeFormat.FromBytes(bytes).Weights;
            return weights.Length > 0 ? weights : null;
        }
        catch (Exception e) when (e is BlobNotFoundException or InvalidDataException)
        {
            return null;
        }
    }
}
