using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using System.Diagnostics;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace AnomalyClustering.Grains.Images;

/// <summary>
/// One image of one job, on a gpu-worker silo. Embedding (reference and normal images): read the image blob, hash it, and
/// either read its patch bag from the feature cache or decode, run the backbone (batched with the silo's other images) and
/// store the bag, which every other image is weighed against. Processing (every image): get the bag the same way (stored
/// only when the job caches features), score its patches against the references or the normal bank, softmax them into
/// alpha, form x_i and write the outcome. A bad image comes back as a failure; the job goes on without it.
/// </summary>
[RequiredSiloRole(SiloRoles.GpuWorker)]
// Spread images over the workers by their activation counts: the default (resource-optimized) placement, deciding from
// one coordinator's view at burst speed, put a whole job on one worker in tests while the other stayed idle.
[ActivationCountBasedPlacement]
[CollectionAgeLimit(Minutes = 10)]
internal sealed class ImageGrain(
    IBlobStore blobs,
    FeatureCache featureCache,
    BackboneSessions backbones,
    PatchBagMemoryCache bags,
    NormalBankCache normalBanks,
    PatchScoring scoring,
    DecodedPixelBudget pixelBudget,
    IOptions<WorkerOptions> workerOptions,
    ILocalSiloDetails silo,
    ILogger<ImageGrain> logger) : Grain, IImageGrain
{
    private readonly WorkerOptions _options = workerOptions.Value;

    private string SiloName => silo.Name;

    private string JobId => ImageGrainKey.JobIdOf(this.GetPrimaryKeyString());

    private KeyValuePair<string, object?> SiloTag => new("silo", SiloName);

    /// <inheritdoc />
    public Task<EmbeddedImage> Embed(EmbedImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ObservedAsync("image.embed", request.ImageId, () => EmbedImageAsync(request), outcome => (outcome.Failure, outcome.CacheHit));
    }

    /// <inheritdoc />
    public Task<ProcessedImage> Process(ProcessImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ObservedAsync("image.process", request.Image.Id, () => ProcessImageAsync(request), outcome => (outcome.Failure, outcome.CacheHit));
    }

    /// <summary>One image's work in a span, counted in flight on this silo, its outcome counted as embedded or failed.</summary>
    private async Task<T> ObservedAsync<T>(string spanName, string imageId, Func<Task<T>> work, Func<T, (ImageFailure? Failure, bool CacheHit)> outcomeOf)
    {
        using var span = AnomalyClusteringTelemetry.StartSpan(spanName, JobId, imageId);
        AnomalyClusteringTelemetry.WorkInFlight.Add(1, SiloTag);
        try
        {
            var outcome = await work().ConfigureAwait(true);
            var (failure, cacheHit) = outcomeOf(outcome);
            if (failure is not null)
            {
                AnomalyClusteringTelemetry.ImagesFailed.Add(1, new KeyValuePair<string, object?>("reason", failure.Reason));
                span?.SetStatus(ActivityStatusCode.Error, failure.Reason);
            }
            else
            {
                AnomalyClusteringTelemetry.ImagesEmbedded.Add(1, new KeyValuePair<string, object?>("cache", cacheHit ? "hit" : "miss"));
            }
            return outcome;
        }
        finally
        {
            AnomalyClusteringTelemetry.WorkInFlight.Add(-1, SiloTag);
        }
    }

    private async Task<EmbeddedImage> EmbedImageAsync(EmbedImageRequest request)
    {
        var bag = await PatchBagAsync(request.ImageId, request.BlobName, request.BackboneDescriptionJson, request.Options, store: true).ConfigureAwait(true);
        if (bag.Failure is { } failure)
        {
            return Failed(request.ImageId, request.BlobName, request.IsNormalImage, failure.Reason, failure.Message);
        }
        return new EmbeddedImage(bag.FeatureBlob, bag.CacheHit, bag.Bag!.GridHeight, bag.Bag.GridWidth, Failure: null, bag.ContentSha256);
    }

    /// <summary>
    /// The image's patch bag: from the feature cache, or decoded and embedded (and then stored there when
    /// <paramref name="store"/>). A bad image, a missing blob or a backbone that cannot open is a failure, not an exception.
    /// </summary>
    private async Task<ObtainedBag> PatchBagAsync(string imageId, string blobName, string backboneJson, JobOptions options, bool store)
    {
        BatchingBackbone backbone;
        try
        {
            backbone = backbones.Get(backboneJson);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The exception can name model paths or storage endpoints: it goes to the log, the failure names an incident.
            var message = JobIncidents.Record(logger, $"job {JobId}, image {imageId}, silo {SiloName}", e, "the backbone could not be opened on a worker");
            return ObtainedBag.Failed("backbone", message);
        }

        // The job may lower the worker's size limit, never raise it.
        var decoding = new ImageDecodeOptions { MaxDimension = Math.Min(options.MaxImageDimension, _options.MaxImageDimension) };
        byte[] encoded;
        try
        {
            // The decoder's own size limit, applied before the bytes are held.
            encoded = await blobs.ReadAllBytesAsync(blobName, decoding.MaxEncodedBytes).ConfigureAwait(true);
        }
        catch (BlobNotFoundException)
        {
            return ObtainedBag.Failed("missing", $"blob '{blobName}' does not exist.");
        }
        catch (BlobTooLargeException e)
        {
            var tooLarge = new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the image is over {e.LimitBytes} bytes, the limit of encoded data a decoder reads whole; save the image smaller or with more compression.");
            return ObtainedBag.Failed(tooLarge.ReasonCode, tooLarge.Detail);
        }

        var embedding = JobOptionsMapping.ToPipelineOptions(options).PatchEmbedding;
        // The size limit is part of the key: a bag cached by a job with a larger limit is never a way past this one's.
        // The one hash of the image's bytes: it names the feature-cache entry and goes into the outcome, where reports find
        // the image's thumbnail by it without reading the image again.
        var contentSha256 = FeatureCacheKey.HashImage(encoded);
        var key = FeatureCacheKey.Create(contentSha256, $"{backbone.Identity}|max-side {decoding.MaxDimension}", embedding);
        if (store)
        {
            var cached = await featureCache.TryGetAsync(key).ConfigureAwait(true);
            (cached is null ? AnomalyClusteringTelemetry.FeatureCacheMisses : AnomalyClusteringTelemetry.FeatureCacheHits).Add(1);
            if (cached is not null)
            {
                bags.Add(key.BlobName, cached);
                return new ObtainedBag(cached, key.BlobName, CacheHit: true, Failure: null, contentSha256);
            }
        }

        // The decoded pixels are reserved from the worker's budget before they are allocated, so that many large images at
        // once wait for each other instead of running the pod out of memory. One that breaks the decoder's own limits
        // reserves nothing: the decoder refuses it at its header.
        var (width, height) = ImageDecoder.ReadDimensions(encoded) ?? (0, 0);
        var pixels = Math.Max(width, height) <= decoding.MaxDimension && (long)width * height <= decoding.MaxPixels ? (long)width * height : 0;
        if (!pixelBudget.Fits(pixels))
        {
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            var refused = new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the header declares {width} x {height} = {pixels.ToString("N0", invariant)} pixels, more than a worker decodes at once ({pixelBudget.Capacity.ToString("N0", invariant)} pixels, "
                + $"{WorkerOptions.Section}:MaxInFlightDecodedPixels, by default a quarter of the worker's memory limit at {DecodedPixelBudget.BytesPerPixel} bytes a pixel); "
                + "give the gpu-workers more memory, raise the setting, or lower maxImageDimension.");
            return ObtainedBag.Failed(refused.ReasonCode, refused.Detail);
        }
        var reservation = await pixelBudget.AcquireAsync(pixels).ConfigureAwait(true);
        var tensor = new float[new ImagePreprocessor(backbone.Description.Preprocessing).TensorLength];
        var clock = Stopwatch.StartNew();
        var decodeSpan = AnomalyClusteringTelemetry.StartSpan("decode", JobId, imageId);
        try
        {
            // Decoding is CPU work: off the grain's scheduler, like the scoring below.
            // The loader (and the decoded image it holds, up to 300 MB) lives only in this call: a local of this async
            // method would be kept by its state machine until the embedding below is done, long after the reservation.
            await Task.Run(() => new ImageLoader(backbone.Description.Preprocessing, decoding).Load(encoded, imageId, tensor)).ConfigureAwait(true);
        }
        catch (ImageDecodeException e)
        {
            decodeSpan?.SetStatus(ActivityStatusCode.Error, e.ReasonCode);
            return ObtainedBag.Failed(e.ReasonCode, e.Detail);
        }
        finally
        {
            // Decoded and resized into the tensor: the pixels are garbage now (the embedding holds none).
            reservation.Dispose();
            AnomalyClusteringTelemetry.EndStage(decodeSpan, "decode", clock);
        }
        clock.Restart();
        var embedSpan = AnomalyClusteringTelemetry.StartSpan("embed", JobId, imageId);
        PatchBag bag;
        try
        {
            bag = await backbone.EmbedAsync(tensor, embedding).ConfigureAwait(true);
        }
        finally
        {
            AnomalyClusteringTelemetry.EndStage(embedSpan, "embed", clock);
        }
        if (!store)
        {
            return new ObtainedBag(bag, FeatureBlob: null, CacheHit: false, Failure: null, contentSha256);
        }
        await featureCache.PutAsync(key, bag).ConfigureAwait(true);
        bags.Add(key.BlobName, bag);
        return new ObtainedBag(bag, key.BlobName, CacheHit: false, Failure: null, contentSha256);
    }

    /// <inheritdoc />
    public async Task<double> ScoreNormalLeaveOneOut(NormalScoreRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = AnomalyClusteringTelemetry.StartSpan("image.score_normal", JobId);
        ArgumentOutOfRangeException.ThrowIfNegative(request.Index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(request.Index, request.NormalFeatureBlobs.Count);
        double score;
        if (request.CoresetFraction > 0)
        {
            // The job's bank is a coreset: the image against the kept patches of the other normal images (the same cached selection).
            var coreset = await normalBanks.GetCoresetAsync(JobId, request.NormalFeatureBlobs, request.CoresetFraction, request.Seed, maxDegreeOfParallelism: -1)
                .ConfigureAwait(true);
            var own = await bags.GetAsync(request.NormalFeatureBlobs[request.Index]).ConfigureAwait(true);
            score = await Task.Run(() => DetectionThreshold.LeaveOneOutScore(coreset, own, request.Index, _options.ScoringThreads)).ConfigureAwait(true);
        }
        else
        {
            var normals = await Task.WhenAll(request.NormalFeatureBlobs.Select(blob => bags.GetAsync(blob))).ConfigureAwait(true);
            // The image is scored in place against the others: no list without it is built.
            score = await Task.Run(() => DetectionThreshold.LeaveOneOutScore(normals, request.Index, _options.ScoringThreads)).ConfigureAwait(true);
        }
        DeactivateOnIdle();
        return score;
    }

    private async Task<ProcessedImage> ProcessImageAsync(ProcessImageRequest request)
    {
        var image = request.Image;
        // A reference image was embedded (and its bag stored) before any image was processed: its bag is read, not recomputed,
        // and its content hash is the one its embedding recorded.
        var ownReference = IndexOf(request.ReferenceImages, image.Index);
        ObtainedBag obtained = ownReference >= 0
            ? new ObtainedBag(
                await bags.GetAsync(request.ReferenceFeatureBlobs[ownReference]).ConfigureAwait(true), request.ReferenceFeatureBlobs[ownReference], CacheHit: true, Failure: null,
                request.ReferenceContentHashes is { } hashes && ownReference < hashes.Count ? hashes[ownReference] : null)
            : await PatchBagAsync(image.Id, image.BlobName, request.BackboneDescriptionJson, request.Options, request.CacheFeatures).ConfigureAwait(true);
        if (obtained.Failure is { } failure)
        {
            logger.LogInformation("Image {ImageId} ({Blob}) failed: {Reason}: {Message}", image.Id, image.BlobName, failure.Reason, failure.Message);
            return new ProcessedImage([], null, 0, 0, false, failure with { Id = image.Id, BlobName = image.BlobName });
        }
        var bag = obtained.Bag!;
        var clock = Stopwatch.StartNew();
        var scoreSpan = AnomalyClusteringTelemetry.StartSpan("score", JobId);
        float[] alpha;
        double? anomalyScore = null;
        // The raw s_ik, kept in the outcome for pixel anomaly maps (alpha is normalised per image, so it cannot serve).
        float[] patchScores = [];
        switch (ClusteringOptionNames.ParseMode(request.Options.Mode))
        {
            case ClusteringMode.Average:
                alpha = PatchWeights.Uniform(bag.PatchCount);
                break;
            case ClusteringMode.SemiSupervised:
            {
                // The coreset selection uses every core: all of this job's image grains on this silo wait for it.
                var bank = await normalBanks.GetAsync(JobId, request.NormalFeatureBlobs, request.Options.Coreset, request.Options.Seed, maxDegreeOfParallelism: -1)
                    .ConfigureAwait(true);
                var bankKey = NormalBankCache.KeyOf(JobId, request.NormalFeatureBlobs, request.Options.Coreset, request.Options.Seed);
                var scores = await scoring.AgainstBankAsync(bankKey, bank, bag).ConfigureAwait(true);
                alpha = PatchWeights.Softmax(scores, request.Options.Tau);
                anomalyScore = ImageAnomalyScore.FromPatchScores(scores);
                patchScores = Array.ConvertAll(scores, score => (float)score);
                break;
            }
            default:
            {
                var positions = ReferenceSample.PoolReferencesFor(request.ReferenceImages, request.ReferencesPerImage, image.Index);
                if (positions.Length == 0)
                {
                    return new ProcessedImage([], null, 0, 0, false, new ImageFailure(image.Id, image.BlobName, "no-reference",
                        "no other image of the job could be decoded, so this one has nothing to be compared with."));
                }
                var scores = await scoring.AgainstReferencesAsync(JobId, request.ReferenceFeatureBlobs, positions, bag).ConfigureAwait(true);
                alpha = PatchWeights.Softmax(scores, request.Options.Tau);
                anomalyScore = ImageAnomalyScore.FromPatchScores(scores);
                patchScores = Array.ConvertAll(scores, score => (float)score);
                break;
            }
        }
        var x = BagEmbedding.Compute(bag, alpha);
        AnomalyClusteringTelemetry.EndStage(scoreSpan, "score", clock);
        using (var outcome = new MemoryStream(ImageOutcomeFormat.ToBytes(x, alpha, anomalyScore, patchScores, obtained.ContentSha256), writable: false))
        {
            await blobs.PutAsync(request.OutcomeBlob, outcome).ConfigureAwait(true);
        }
        // The image is done for this job; free the activation rather than wait for idle collection.
        DeactivateOnIdle();
        return new ProcessedImage(x, anomalyScore, bag.GridHeight, bag.GridWidth, obtained.CacheHit, Failure: null, obtained.ContentSha256);
    }

    private static int IndexOf(IReadOnlyList<int> values, int value)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] == value)
            {
                return i;
            }
        }
        return -1;
    }

    private EmbeddedImage Failed(string imageId, string blobName, bool isNormal, string reason, string message)
    {
        logger.LogInformation("Image {ImageId} ({Blob}) failed: {Reason}: {Message}", imageId, blobName, reason, message);
        return new EmbeddedImage(null, false, 0, 0, new ImageFailure(imageId, blobName, reason, message, isNormal));
    }

    /// <summary>A patch bag obtained for an image, where it is stored (null: not stored), the image file's SHA-256 when known, or why there is none.</summary>
    private sealed record ObtainedBag(PatchBag? Bag, string? FeatureBlob, bool CacheHit, ImageFailure? Failure, string? ContentSha256 = null)
    {
        public static ObtainedBag Failed(string reason, string message) => new(null, null, false, new ImageFailure("", "", reason, message));
    }
}
