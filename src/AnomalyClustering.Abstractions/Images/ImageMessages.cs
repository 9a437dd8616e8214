using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Abstractions.Images;

/// <summary>Asks an image grain to embed its image (or read the embedding from the feature cache).</summary>
/// <param name="ImageId">The image id in the job.</param>
/// <param name="BlobName">The blob with the encoded image.</param>
/// <param name="BackboneDescriptionJson">The backbone to embed with (JSON of a backbone description).</param>
/// <param name="Options">The job options (patch embedding sizes and the image size limit are used).</param>
/// <param name="IsNormalImage">True for a normal image of semi-supervised mode (recorded in a failure).</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.EmbedImageRequest")]
public sealed record EmbedImageRequest(
    [property: Id(0)] string ImageId,
    [property: Id(1)] string BlobName,
    [property: Id(2)] string BackboneDescriptionJson,
    [property: Id(3)] JobOptions Options,
    [property: Id(4)] bool IsNormalImage = false);

/// <summary>The outcome of embedding one image: where its patch bag is, or why there is none.</summary>
/// <param name="FeatureBlob">The feature-cache blob with the image's patch bag; null when the image failed.</param>
/// <param name="CacheHit">True when the bag came from the feature cache (no backbone inference).</param>
/// <param name="GridHeight">Rows of the patch grid.</param>
/// <param name="GridWidth">Columns of the patch grid.</param>
/// <param name="Failure">Why the image could not be used, or null.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.EmbeddedImage")]
public sealed record EmbeddedImage(
    [property: Id(0)] string? FeatureBlob,
    [property: Id(1)] bool CacheHit,
    [property: Id(2)] int GridHeight,
    [property: Id(3)] int GridWidth,
    [property: Id(4)] ImageFailure? Failure);

/// <summary>
/// Asks an image grain for its patch weights alpha and image embedding x_i. Unsupervised: against the patch bags of
/// <paramref name="ReferenceFeatureBlobs"/> (the image's reference images). Semi-supervised: against the normal bank made of
/// <paramref name="NormalFeatureBlobs"/> (built once per silo and job). Average: uniform weights.
/// </summary>
/// <param name="FeatureBlob">The image's own patch bag.</param>
/// <param name="Mode">The job mode (<c>unsupervised</c>, <c>semi-supervised</c>, <c>average</c>).</param>
/// <param name="Tau">Softmax temperature.</param>
/// <param name="ReferenceFeatureBlobs">Unsupervised: the reference images' patch bags.</param>
/// <param name="NormalFeatureBlobs">Semi-supervised: the normal images' patch bags, in the job's order.</param>
/// <param name="OutcomeBlob">Where the grain writes its embedding and weights, so that a restarted coordinator can read them back.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.WeighImageRequest")]
public sealed record WeighImageRequest(
    [property: Id(1)] string FeatureBlob,
    [property: Id(2)] string Mode,
    [property: Id(3)] double Tau,
    [property: Id(4)] IReadOnlyList<string> ReferenceFeatureBlobs,
    [property: Id(5)] IReadOnlyList<string> NormalFeatureBlobs,
    [property: Id(6)] string OutcomeBlob);

/// <summary>Asks a normal image's grain for its leave-one-out anomaly score against the other normal images.</summary>
/// <param name="NormalFeatureBlobs">
/// The patch bags of all the job's usable normal images, the same list for every image: one list shared by all requests
/// rather than a copy without the image per request (which made the scoring's requests O(N^2) to build).
/// </param>
/// <param name="Index">The scored image's place in <paramref name="NormalFeatureBlobs"/>; the others are its references.</param>
// Ids 0 and 1 (the image's own bag, the others' bags) are retired: new fields take new ids.
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NormalScoreRequest")]
public sealed record NormalScoreRequest(
    [property: Id(2)] IReadOnlyList<string> NormalFeatureBlobs,
    [property: Id(3)] int Index);

/// <summary>An image's patch weights (alpha map), its image embedding x_i and its anomaly score.</summary>
/// <param name="Embedding">x_i, T floats.</param>
/// <param name="PatchWeights">alpha, one weight per patch (sum 1), row-major on the patch grid.</param>
/// <param name="AnomalyScore">The image anomaly score (the largest patch score); null in the <c>average</c> mode.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.WeightedImage")]
public sealed record WeightedImage(
    [property: Id(0)] float[] Embedding,
    [property: Id(1)] float[] PatchWeights,
    [property: Id(2)] double? AnomalyScore = null);
