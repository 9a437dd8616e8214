using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Grains.Images;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using SkiaSharp;

namespace AnomalyClustering.Cli.Evaluation;

/// <summary>
/// Pixel AUROC and PRO of a finished job against a dataset's ground-truth masks: each image's raw patch scores (from its
/// outcome blob) become an anomaly map at its mask's size (<see cref="AnomalyMap"/>: bilinear, then PatchCore's Gaussian of
/// sigma 4 backbone-input pixels), pooled with the mask; good images count with an all-clear mask at the image's size.
/// </summary>
/// <remarks>
/// Only for stretched inputs (the CLI's default), where the patch grid covers the whole image; a centre crop leaves pixels
/// the backbone never saw. Memory: 8 bytes per pixel of all images (about 390 MB for magnetic tile's 49 million pixels),
/// one map and mask at a time besides.
/// </remarks>
internal static class PixelDetectionEvaluation
{
    /// <summary>The job image a result row came from: its id, its file, and its index in the job's manifest.</summary>
    /// <param name="Id">The image id.</param>
    /// <param name="Path">The image file.</param>
    /// <param name="Index">Its place in the job's manifest (the index of its outcome blob).</param>
    public sealed record JobImageFile(string Id, string Path, int Index);

    /// <summary>
    /// The pixel metrics of <paramref name="result"/>'s images, or null when the job has no patch scores (average mode),
    /// no patch grid, or its inputs were centre-cropped.
    /// </summary>
    /// <remarks>
    /// Images whose mask cannot be read (<see cref="GroundTruthMasks.ExcludedImageIds"/>, or a mask or good image that fails
    /// to decode here) are left out of the pool: the clustering result stands without them.
    /// </remarks>
    public static async Task<PixelDetectionScores?> EvaluateAsync(
        IBlobStore store, string jobId, IReadOnlyList<JobImageFile> jobImages, ClusteringResult result, GroundTruthMasks masks,
        PreprocessingOptions preprocessing, CancellationToken cancellationToken)
    {
        int gridHeight = result.PatchGridHeight, gridWidth = result.PatchGridWidth;
        if (preprocessing.ResizeMode != ImageResizeMode.Stretch || gridHeight == 0 || gridWidth == 0 || result.Options.Mode == ClusteringMode.Average)
        {
            return null;
        }
        var byId = jobImages.ToDictionary(image => image.Id, StringComparer.Ordinal);
        // The pool is sized from the files' headers, so it never grows (growing would hold it twice for a moment).
        var images = result.Images.Where(image => !masks.ExcludedImageIds.Contains(image.Id)).Select(image => (Image: byId[image.Id], Mask: masks.MaskPathByImageId.GetValueOrDefault(image.Id))).ToList();
        var metrics = new PixelDetectionMetrics(images.Sum(image => HeaderPixels(image.Mask ?? image.Image.Path)));
        var decoder = new ImageDecoder();
        var decoded = new RgbImage();
        foreach (var (image, maskPath) in images)
        {
            var scores = await ImagePatchScores.ReadAsync(store, jobId, image.Index, cancellationToken).ConfigureAwait(false);
            if (scores is null)
            {
                return null;
            }
            try
            {
                decoder.Decode(maskPath ?? image.Path, decoded);
            }
            catch (ImageDecodeException)
            {
                // Its header read (GroundTruthMasks.Find), its data does not: the image leaves the pixel metrics, not the result.
                continue;
            }
            int height = decoded.Height, width = decoded.Width;
            var mask = new bool[height * width];
            if (maskPath is not null)
            {
                var pixels = decoded.Pixels;
                for (var i = 0; i < mask.Length; i++)
                {
                    // Grey masks decode to equal channels; red stands for all three.
                    mask[i] = pixels[3 * i] >= GroundTruthMasks.DefectLevel;
                }
            }
            var map = new float[height * width];
            // PatchCore's sigma is in pixels of the backbone input; stretched, one input pixel is height / CropHeight mask pixels.
            AnomalyMap.Render(scores, gridHeight, gridWidth, height, width,
                AnomalyMap.InputPixelSigma * height / preprocessing.CropHeight, AnomalyMap.InputPixelSigma * width / preprocessing.CropWidth, map);
            metrics.Add(map, mask, height, width);
        }
        return metrics.Compute();
    }

    private static long HeaderPixels(string path)
    {
        using var codec = SKCodec.Create(path);
        return codec is null ? 0 : (long)codec.Info.Width * codec.Info.Height;
    }
}
