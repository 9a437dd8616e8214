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
/// <param name="ContentSha256">The SHA-256 of the image file the grain read (64 hex digits); null when the image failed.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.EmbeddedImage")]
public sealed record EmbeddedImage(
    [property: Id(0)] string? FeatureBlob,
    [property: Id(1)] bool CacheHit,
    [property: Id(2)] int GridHeight,
    [property: Id(3)] int GridWidth,
    [property: Id(4)] ImageFailure? Failure,
    [property: Id(5)] string? ContentSha256 = null);

/// <summary>
/// Asks an image grain to process its image in one go: embed it, weigh its patches and form x_i. Unsupervised: against the
/// first <paramref name="ReferencesPerImage"/> patch bags of <paramref name="ReferenceFeatureBlobs"/> whose image is not this
/// one. Semi-supervised: against the normal bank made of <paramref name="NormalFeatureBlobs"/> (built once per silo and job).
/// Average: uniform weights.
/// </summary>
/// <param name="Image">The image: its id in the job, its blob, its index among the job's images.</param>
/// <param name="BackboneDescriptionJson">The backbone to embed with (JSON of a backbone description).</param>
/// <param name="Options">The job options (mode, tau, patch embedding sizes, the image size limit).</param>
/// <param name="ReferenceImages">Unsupervised: the image indices of the reference pool, in drawing order.</param>
/// <param name="ReferenceFeatureBlobs">The patch bags of <paramref name="ReferenceImages"/>, in the same order.</param>
/// <param name="ReferencesPerImage">R: how many references (other than the image itself) it is compared with.</param>
/// <param name="NormalFeatureBlobs">Semi-supervised: the normal images' patch bags, in the job's order.</param>
/// <param name="OutcomeBlob">Where the grain writes the image's embedding, weights and score.</param>
/// <param name="CacheFeatures">True to look the patch bag up in the feature cache and store it there when computed.</param>
/// <param name="ReferenceContentHashes">
/// The SHA-256 of each of <paramref name="ReferenceImages"/>' files, in the same order (recorded when they were embedded), so
/// that a reference image's outcome carries its hash without its file being read again; null when unknown.
/// </param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.ProcessImageRequest")]
public sealed record ProcessImageRequest(
    [property: Id(0)] IndexedImage Image,
    [property: Id(1)] string BackboneDescriptionJson,
    [property: Id(2)] JobOptions Options,
    [property: Id(3)] IReadOnlyList<int> ReferenceImages,
    [property: Id(4)] IReadOnlyList<string> ReferenceFeatureBlobs,
    [property: Id(5)] int ReferencesPerImage,
    [property: Id(6)] IReadOnlyList<string> NormalFeatureBlobs,
    [property: Id(7)] string OutcomeBlob,
    [property: Id(8)] bool CacheFeatures,
    [property: Id(9)] IReadOnlyList<string?>? ReferenceContentHashes = null);

/// <summary>An image of a job with its place in the job's image list.</summary>
/// <param name="Index">The image's index among the job's images (0-based, manifest order).</param>
/// <param name="Id">The image id.</param>
/// <param name="BlobName">The blob with the encoded image.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.IndexedImage")]
public sealed record IndexedImage(
    [property: Id(0)] int Index,
    [property: Id(1)] string Id,
    [property: Id(2)] string BlobName);

/// <summary>The outcome of processing one image: its embedding and score, or why there is none.</summary>
/// <param name="Embedding">x_i, T floats; empty when the image failed.</param>
/// <param name="AnomalyScore">The image anomaly score (the largest patch score); null in the <c>average</c> mode or on failure.</param>
/// <param name="GridHeight">Rows of the patch grid.</param>
/// <param name="GridWidth">Columns of the patch grid.</param>
/// <param name="CacheHit">True when the patch bag was read rather than computed (no backbone inference).</param>
/// <param name="Failure">Why the image could not be used, or null.</param>
/// <param name="ContentSha256">
/// The SHA-256 of the image file (64 hex digits), as the grain computed it for its feature-cache key: what report thumbnails
/// are keyed by. Null on failure or when unknown.
/// </param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.ProcessedImage")]
public sealed record ProcessedImage(
    [property: Id(0)] float[] Embedding,
    [property: Id(1)] double? AnomalyScore,
    [property: Id(2)] int GridHeight,
    [property: Id(3)] int GridWidth,
    [property: Id(4)] bool CacheHit,
    [property: Id(5)] ImageFailure? Failure,
    [property: Id(6)] string? ContentSha256 = null);

/// <summary>Asks a normal image's grain for its leave-one-out anomaly score against the other normal images.</summary>
/// <param name="NormalFeatureBlobs">
/// The patch bags of all the job's usable normal images, the same list for every image: one list shared by all requests
/// rather than a copy without the image per request (which made the scoring's requests O(N^2) to build).
/// </param>
/// <param name="Index">The scored image's place in <paramref name="NormalFeatureBlobs"/>; the others are its references.</param>
/// <param name="CoresetFraction">The job's coreset fraction (0: none); with one, the references are the coreset's patches of the others.</param>
/// <param name="Seed">The job seed, which selects the coreset.</param>
// Ids 0 and 1 (the image's own bag, the others' bags) are retired: new fields take new ids.
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NormalScoreRequest")]
public sealed record NormalScoreRequest(
    [property: Id(2)] IReadOnlyList<string> NormalFeatureBlobs,
    [property: Id(3)] int Index,
    [property: Id(4)] double CoresetFraction = 0,
    [property: Id(5)] int Seed = 0);

/// <summary>An image's patch weights (alpha map), its image embedding x_i and its anomaly score.</summary>
/// <param name="Embedding">x_i, T floats.</param>
/// <param name="PatchWeights">alpha, one weight per patch (sum 1), row-major on the patch grid.</param>
/// <param name="AnomalyScore">The image anomaly score (the largest patch score); null in the <c>average</c> mode.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.WeightedImage")]
public sealed record WeightedImage(
    [property: Id(0)] float[] Embedding,
    [property: Id(1)] float[] PatchWeights,
    [property: Id(2)] double? AnomalyScore = null);
