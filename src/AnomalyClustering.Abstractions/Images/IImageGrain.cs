namespace AnomalyClustering.Abstractions.Images;

/// <summary>
/// One image of one job (key <c>{jobId}/{kind}{index}</c>, see <see cref="ImageGrainKey"/>), placed on gpu-worker silos.
/// A reference or normal image is embedded first and its patch bag stored, since every other image is weighed against it;
/// every image is then processed in one go: decoded, embedded, its patches scored, its weights and image embedding formed,
/// its patch bag never leaving the worker. Images and patch bags travel through blobs; messages carry names and small vectors.
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

    /// <summary>
    /// Decodes and embeds the image (or reads its bag from the feature cache or the job's references), scores its patches
    /// against the request's references or normal bank, writes its embedding, weights and score to the outcome blob and
    /// returns the embedding and score. A bad image becomes a failure, not an exception.
    /// </summary>
    [Alias("Process"), ResponseTimeout(ImageWorkTimeout)]
    Task<ProcessedImage> Process(ProcessImageRequest request);

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
