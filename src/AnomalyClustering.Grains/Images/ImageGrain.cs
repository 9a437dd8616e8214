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
/// One image of one job, on a gpu-worker silo. Embedding: read the image blob, hash it, and either read its patch bag
/// from the feature cache or decode, run the backbone (batched with the silo's other images) and cache the bag.
/// Weighting: score the patches against the references or the normal bank, softmax them into alpha and form x_i.
/// A bad image comes back as a failure; the job goes on without it.
/// </summary>
[RequiredSiloRole(SiloRoles.GpuWorker)]
// Spread images over the workers by their activation counts: the default (resource-optimized) placement, deciding from
// one coordinator's view at burst speed, put a whole job on one worker in tests while the other stayed idle.
[ActivationCountBasedPlacement]
[CollectionAgeLimit(Minutes = 10)]
internal sealed class ImageGrain(
    IBlobStore store,
    FeatureCache featureCache,
    BackboneSessions backbones,
    PatchBagMemoryCache bags,
    NormalBankCache normalBanks,
    IOptions<WorkerOptions> workerOptions,
    ILocalSiloDetails silo,
    ILogger<ImageGrain> logger) : Grain, IImageGrain
{
    private readonly WorkerOptions _options = workerOptions.Value;

    private string SiloName => silo.Name;

    private string JobId => ImageGrainKey.JobIdOf(this.GetPrimaryKeyString());

    private KeyValuePair<string, object?> SiloTag => new("silo", SiloName);

    /// <inheritdoc />
    public async Task<EmbeddedImage> Embed(EmbedImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = AnomalyClusteringTelemetry.StartSpan("image.embed", JobId, request.ImageId);
        AnomalyClusteringTelemetry.WorkInFlight.Add(1, SiloTag);
        try
        {
            var outcome = await EmbedImageAsync(request).ConfigureAwait(true);
            if (outcome.Failure is { } failure)
            {
                AnomalyClusteringTelemetry.ImagesFailed.Add(1, new KeyValuePair<string, object?>("reason", failure.Reason));
                span?.SetStatus(ActivityStatusCode.Error, failure.Reason);
            }
            else
            {
                AnomalyClusteringTelemetry.ImagesEmbedded.Add(1, new KeyValuePair<string, object?>("cache", outcome.CacheHit ? "hit" : "miss"));
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
        BatchingBackbone backbone;
        try
        {
            backbone = backbones.Get(request.BackboneDescriptionJson);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The exception can name model paths or storage endpoints: it goes to the log, the failure names an incident.
            var message = JobIncidents.Record(logger, $"job {JobId}, image {request.ImageId}, silo {SiloName}", e, "the backbone could not be opened on a worker");
            return Failed(request, "backbone", message);
        }

        var decoding = new ImageDecodeOptions { MaxDimension = request.Options.MaxImageDimension };
        byte[] encoded;
        try
        {
            // The decoder's own size limit, applied before the bytes are held.
            encoded = await store.ReadAllBytesAsync(request.BlobName, decoding.MaxEncodedBytes).ConfigureAwait(true);
        }
        catch (BlobNotFoundException)
        {
            return Failed(request, "missing", $"blob '{request.BlobName}' does not exist.");
        }
        catch (BlobTooLargeException e)
        {
            var tooLarge = new ImageDecodeException(request.ImageId, ImageDecodeFailure.TooLarge,
                $"the image is over {e.LimitBytes} bytes, the limit of ImageDecodeOptions.MaxEncodedBytes.");
            return Failed(request, tooLarge.ReasonCode, tooLarge.Detail);
        }

        var embedding = JobOptionsMapping.ToPipelineOptions(request.Options).PatchEmbedding;
        var key = FeatureCacheKey.Create(FeatureCacheKey.HashImage(encoded), backbone.Identity, embedding);
        var cached = await featureCache.TryGetAsync(key).ConfigureAwait(true);
        (cached is null ? AnomalyClusteringTelemetry.FeatureCacheMisses : AnomalyClusteringTelemetry.FeatureCacheHits).Add(1);
        if (cached is not null)
        {
            bags.Add(key.BlobName, cached);
            return new EmbeddedImage(key.BlobName, CacheHit: true, cached.GridHeight, cached.GridWidth, Failure: null);
        }

        var loader = new ImageLoader(backbone.Description.Preprocessing, decoding);
        var tensor = new float[loader.TensorLength];
        var clock = Stopwatch.StartNew();
        var decodeSpan = AnomalyClusteringTelemetry.StartSpan("decode", JobId, request.ImageId);
        try
        {
            // Decoding is CPU work: off the grain's scheduler, like the scoring below.
            await Task.Run(() => loader.Load(encoded, request.ImageId, tensor)).ConfigureAwait(true);
        }
        catch (ImageDecodeException e)
        {
            decodeSpan?.SetStatus(ActivityStatusCode.Error, e.ReasonCode);
            return Failed(request, e.ReasonCode, e.Detail);
        }
        finally
        {
            AnomalyClusteringTelemetry.EndStage(decodeSpan, "decode", clock);
        }
        clock.Restart();
        var embedSpan = AnomalyClusteringTelemetry.StartSpan("embed", JobId, request.ImageId);
        PatchBag bag;
        try
        {
            bag = await backbone.EmbedAsync(tensor, embedding).ConfigureAwait(true);
        }
        finally
        {
            AnomalyClusteringTelemetry.EndStage(embedSpan, "embed", clock);
        }
        await featureCache.PutAsync(key, bag).ConfigureAwait(true);
        bags.Add(key.BlobName, bag);
        return new EmbeddedImage(key.BlobName, CacheHit: false, bag.GridHeight, bag.GridWidth, Failure: null);
    }

    /// <inheritdoc />
    public async Task<WeightedImage> Weigh(WeighImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = AnomalyClusteringTelemetry.StartSpan("image.weigh", JobId);
        AnomalyClusteringTelemetry.WorkInFlight.Add(1, SiloTag);
        try
        {
            return await WeighImageAsync(request).ConfigureAwait(true);
        }
        finally
        {
            AnomalyClusteringTelemetry.WorkInFlight.Add(-1, SiloTag);
        }
    }

    /// <inheritdoc />
    public async Task<double> ScoreNormalLeaveOneOut(NormalScoreRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = AnomalyClusteringTelemetry.StartSpan("image.score_normal", JobId);
        ArgumentOutOfRangeException.ThrowIfNegative(request.Index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(request.Index, request.NormalFeatureBlobs.Count);
        var normals = await Task.WhenAll(request.NormalFeatureBlobs.Select(blob => bags.GetAsync(blob))).ConfigureAwait(true);
        // The image is scored in place against the others: no list without it is built.
        var score = await Task.Run(() => DetectionThreshold.LeaveOneOutScore(normals, request.Index, _options.ScoringThreads)).ConfigureAwait(true);
        DeactivateOnIdle();
        return score;
    }

    private async Task<WeightedImage> WeighImageAsync(WeighImageRequest request)
    {
        var mode = ClusteringOptionNames.ParseMode(request.Mode);
        var bag = await bags.GetAsync(request.FeatureBlob).ConfigureAwait(true);
        var clock = Stopwatch.StartNew();
        var scoreSpan = AnomalyClusteringTelemetry.StartSpan("score", JobId);
        float[] alpha;
        double? anomalyScore = null;
        switch (mode)
        {
            case ClusteringMode.Average:
                alpha = PatchWeights.Uniform(bag.PatchCount);
                break;
            case ClusteringMode.SemiSupervised:
            {
                var bank = await normalBanks.GetAsync(JobId, request.NormalFeatureBlobs).ConfigureAwait(true);
                var scores = await Task.Run(() => SemiSupervisedPatchScores.Compute(bag, bank, _options.ScoringThreads)).ConfigureAwait(true);
                alpha = PatchWeights.Softmax(scores, request.Tau);
                anomalyScore = ImageAnomalyScore.FromPatchScores(scores);
                break;
            }
            default:
            {
                var references = await Task.WhenAll(request.ReferenceFeatureBlobs.Select(blob => bags.GetAsync(blob))).ConfigureAwait(true);
                var scores = new double[bag.PatchCount];
                await Task.Run(() => UnsupervisedPatchScores.ForImage(bag, references, scores, _options.ScoringThreads)).ConfigureAwait(true);
                alpha = PatchWeights.Softmax(scores, request.Tau);
                anomalyScore = ImageAnomalyScore.FromPatchScores(scores);
                break;
            }
        }
        var x = BagEmbedding.Compute(bag, alpha);
        AnomalyClusteringTelemetry.EndStage(scoreSpan, "score", clock);
        using (var outcome = new MemoryStream(ImageOutcomeFormat.ToBytes(x, alpha, anomalyScore), writable: false))
        {
            await store.PutAsync(request.OutcomeBlob, outcome).ConfigureAwait(true);
        }
        // The image is done for this job; free the activation rather than wait for idle collection.
        DeactivateOnIdle();
        return new WeightedImage(x, alpha, anomalyScore);
    }

    private EmbeddedImage Failed(EmbedImageRequest request, string reason, string message)
    {
        logger.LogInformation("Image {ImageId} ({Blob}) failed: {Reason}: {Message}", request.ImageId, request.BlobName, reason, message);
        return new EmbeddedImage(null, false, 0, 0, new ImageFailure(request.ImageId, request.BlobName, reason, message, request.IsNormalImage));
    }
}
