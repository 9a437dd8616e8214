namespace AnomalyClustering.Abstractions.Images;

/// <summary>
/// One image of one job (key <c>{jobId}/{kind}{index}</c>, see <see cref="ImageGrainKey"/>), placed on gpu-worker silos:
/// embeds the image into a patch bag (or reads it from the feature cache), then scores its patches and forms its weights
/// and image embedding. Images and patch bags travel through blobs; the messages carry blob names and small vectors.
/// </summary>
[Alias("AnomalyClustering.IImageGrain")]
public interface IImageGrain : IGrainWithStringKey
{
    /// <summary>
    /// How long a caller waits for one image: its scoring against many references, or its embedding behind a full batch
    /// queue, can take minutes on CPU. Only these calls; every other grain call keeps Orleans' default.
    /// </summary>
    private const string ImageWorkTimeout = "00:10:00";

    /// <summary>Decodes and embeds the image, or reads its bag from the feature cache; a bad image becomes a failure, not an exception.</summary>
    [Alias("Embed"), ResponseTimeout(ImageWorkTimeout)]
    Task<EmbeddedImage> Embed(EmbedImageRequest request);

    /// <summary>Scores the image's patches, forms alpha and x_i, writes them to the outcome blob and returns them.</summary>
    [Alias("Weigh"), ResponseTimeout(ImageWorkTimeout)]
    Task<WeightedImage> Weigh(WeighImageRequest request);

    /// <summary>
    /// Semi-supervised: this normal image's leave-one-out anomaly score, its largest patch distance to the nearest patch of
    /// the other normal images (the input of the label-free detection threshold).
    /// </summary>
    [Alias("ScoreNormalLeaveOneOut"), ResponseTimeout(ImageWorkTimeout)]
    Task<double> ScoreNormalLeaveOneOut(NormalScoreRequest request);
}

/// <summary>The keys of image grains: one per (job, image), normal images apart from the images being clustered.</summary>
public static class ImageGrainKey
{
    /// <summary>The key of image <paramref name="index"/> of the job (or of its normal image when <paramref name="isNormal"/>).</summary>
    public static string For(string jobId, int index, bool isNormal = false) => $"{jobId}/{(isNormal ? 'n' : 'i')}{index}";

    /// <summary>The job id of an image grain key made by <see cref="For"/> (job ids hold no '/').</summary>
    public static string JobIdOf(string key) => key[..Math.Max(0, key.LastIndexOf('/'))];
}
