using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Decides a line's images, whether posted (<c>POST /lines/{name}/images</c>) or named by the intake queue
/// (<see cref="LineIntakeGrain"/>): each image blob is processed by an image grain exactly as the catalog's source job
/// processed its images (its options, backbone, references or normal bank), assigned by <see cref="WardAssignmentRule"/>,
/// and logged once per image id (<see cref="ILineDecisionLogGrain"/>). An image decided before is answered from the log
/// without being processed again.
/// </summary>
public sealed class LineImageDecider(IGrainFactory grains, IBlobStore store, ILogger<LineImageDecider> logger)
{
    /// <summary>How decisions are written to the log: the API's conventions (camelCase, enums as camelCase strings).</summary>
    public static JsonSerializerOptions LogJson { get; } = CreateLogJson();

    /// <summary>
    /// An image to decide: its id (the idempotency key), its file name for people, the blob holding it, and when it arrived
    /// (its intake message's time; null: when the decider got it), which the decision latency metric counts from.
    /// </summary>
    public sealed record StoredImage(string ImageId, string? FileName, string BlobName, DateTimeOffset? ReceivedAt = null);

    /// <summary>The job options a catalog's images are processed with.</summary>
    /// <exception cref="LineCannotTakeImagesException">The catalog does not record what its images must be weighed against.</exception>
    public static JobOptions OptionsOf(LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog.Scoring is not { } scoring)
        {
            throw new LineCannotTakeImagesException(
                $"line '{catalog.Line}' version {catalog.Version} does not record how its job processed images (it was made from a result document, or from a job whose coordinator state was gone); make a new version from a job with POST /lines.",
                IsConflict: true);
        }
        var options = JsonSerializer.Deserialize<JobOptions>(scoring.OptionsJson, LogJson)!;
        return ClusteringOptionNames.ParseMode(options.Mode) switch
        {
            ClusteringMode.SemiSupervised when scoring.NormalFeatureBlobs.Count == 0 => throw new LineCannotTakeImagesException(
                $"line '{catalog.Line}' comes from semi-supervised job '{scoring.JobId}', whose normal bank is not recorded; new images cannot be scored against it.", IsConflict: false),
            ClusteringMode.Unsupervised when scoring.ReferenceFeatureBlobs.Count == 0 => throw new LineCannotTakeImagesException(
                $"line '{catalog.Line}' comes from unsupervised job '{scoring.JobId}', whose reference images are not recorded; new images cannot be scored against them.", IsConflict: false),
            _ => options,
        };
    }

    /// <summary>
    /// Decides <paramref name="images"/> (in order) against <paramref name="catalog"/>, the line stored under prefix
    /// <paramref name="prefix"/>. An image that is not the store's or a worker's fault to fail (not an image, no usable
    /// embedding) is logged as an <c>error</c> decision when <paramref name="logFailures"/> (the queue: every message is
    /// accounted for), and only answered otherwise (an HTTP caller sees the error at once). A failure of a dependency
    /// (<see cref="LineImageError.Unavailable"/>) is answered, never logged: the caller tries again.
    /// </summary>
    public async Task<IReadOnlyList<LineImageResult>> DecideAsync(
        string prefix, LineCatalog catalog, IReadOnlyList<StoredImage> images, bool logFailures, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(images);
        var options = OptionsOf(catalog);
        var rule = new WardAssignmentRule(catalog);
        var started = DateTimeOffset.UtcNow;
        var decided = await Task.WhenAll(images.Select(image => DecideOneAsync(prefix, catalog, rule, options, image, logFailures, cancellationToken))).ConfigureAwait(false);
        var results = decided.Select(d => d.Result).ToArray();
        // New decisions are logged together; the log answers with the decision stored per id (an earlier one wins).
        var fresh = results.Select((result, index) => (result, index)).Where(pair => pair.result is { Repeated: false, Decision: not null }).ToList();
        if (fresh.Count == 0)
        {
            return results;
        }
        // Novel images join the line's pool before they are logged: a crash in between leaves an image pooled but not
        // logged, which is decided again and pooled once (by id); never one logged novel and missing from the pool.
        var novel = decided
            .Where(d => d is { Embedding: not null, Result: { Repeated: false, Decision.Outcome: LineDecision.Novel } })
            .Select(d => new NovelPoolImage(d.Result.ImageId!, d.Result.FileName, d.Embedding!, d.Result.Decision!.AnomalyScore,
                d.Result.Decision.NoveltyScore, d.Result.Decision.DecidedAt, d.Result.Decision.CatalogVersion))
            .ToList();
        IReadOnlyList<string> stored;
        try
        {
            if (novel.Count > 0)
            {
                await grains.GetGrain<ILineNovelPoolGrain>(prefix).Add(novel).ConfigureAwait(false);
            }
            stored = await grains.GetGrain<ILineDecisionLogGrain>(prefix).Append(
                [.. fresh.Select(pair => new LineDecisionEntry(pair.result.ImageId!, pair.result.Decision!.DecidedAt, JsonSerializer.Serialize(pair.result.Decision, LogJson)))]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && BoundedFanOut.IsTransient(e))
        {
            // The pool's or the log's grain could not be reached (its silo gone, the store away): nothing is stored, so
            // the images are answered as unavailable like a worker that did not answer, and the caller (the queue's
            // redelivery, the CLI's retry) sends them again; an image pooled before the failure is pooled once by id.
            logger.LogWarning(e, "{Count} decisions of {Line} could not be stored now", fresh.Count, prefix);
            foreach (var (result, index) in fresh)
            {
                results[index] = new LineImageResult(result.ImageId, result.FileName, false, null, StorageUnavailable);
            }
            return results;
        }
        for (var f = 0; f < fresh.Count; f++)
        {
            var decision = ParseLogged(stored[f]);
            var own = fresh[f].result.Decision!;
            var repeated = decision.DecidedAt != own.DecidedAt || decision.FileName != own.FileName;
            results[fresh[f].index] = AnswerOf(fresh[f].result.ImageId!, fresh[f].result.FileName, repeated, decision);
            if (!repeated)
            {
                LineDecisionMetrics.Record(prefix, decision, images[fresh[f].index].ReceivedAt ?? started, DateTimeOffset.UtcNow);
            }
        }
        return results;
    }

    /// <summary>The decision stored for <paramref name="imageId"/> of the line under <paramref name="prefix"/>, or null.</summary>
    public async Task<LineDecision?> StoredDecisionAsync(string prefix, string imageId, CancellationToken cancellationToken)
    {
        try
        {
            var earlier = await store.ReadAllBytesAsync(LineBlobNames.DecisionOf(prefix, imageId), cancellationToken: cancellationToken).ConfigureAwait(false);
            return ParseLogged(Encoding.UTF8.GetString(earlier));
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Logs an <c>error</c> decision for an intake message that names no image the line can decide (its blob lies outside
    /// the line, the line has no usable catalog: <paramref name="catalogVersion"/> 0 when it has none), once per image id.
    /// </summary>
    public async Task RecordFailureAsync(string prefix, int catalogVersion, StoredImage image, LineImageError error)
    {
        ArgumentNullException.ThrowIfNull(image);
        var decision = ErrorDecision(catalogVersion, image, error);
        var json = JsonSerializer.Serialize(decision, LogJson);
        var stored = await grains.GetGrain<ILineDecisionLogGrain>(prefix).Append([new LineDecisionEntry(image.ImageId, decision.DecidedAt, json)]).ConfigureAwait(false);
        if (stored[0] == json)
        {
            LineDecisionMetrics.Record(prefix, decision, image.ReceivedAt ?? decision.DecidedAt, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>Parses one line of the decision log.</summary>
    public static LineDecision ParseLogged(string json) => JsonSerializer.Deserialize<LineDecision>(json, LogJson)!;

    private static readonly LineImageError ProcessingUnavailable = new(LineImageError.Unavailable,
        "the image could not be processed now (no worker answered in time, or the store was away); send it again.");

    private static readonly LineImageError StorageUnavailable = new(LineImageError.Unavailable,
        "the image was decided but its decision could not be stored now (the line's log or novel pool did not answer); send it again.");

    private static LineImageResult AnswerOf(string imageId, string? fileName, bool repeated, LineDecision decision) =>
        decision.Error is { } error
            ? new LineImageResult(imageId, fileName, repeated, null, error)
            : new LineImageResult(imageId, fileName, repeated, decision, null);

    private async Task<(LineImageResult Result, float[]? Embedding)> DecideOneAsync(
        string prefix, LineCatalog catalog, WardAssignmentRule rule, JobOptions options, StoredImage image, bool logFailures, CancellationToken cancellationToken)
    {
        if (await StoredDecisionAsync(prefix, image.ImageId, cancellationToken).ConfigureAwait(false) is { IsFinal: true } earlier)
        {
            return (AnswerOf(image.ImageId, image.FileName, true, earlier), null);
        }
        var scoring = catalog.Scoring!;
        ProcessedImage processed;
        try
        {
            // Keyed under the source job (a worker's normal bank of that job serves the line's images too) and by line and
            // image id, so that two lines' images of the same id are two grains.
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prefix + image.ImageId)))[..32];
            processed = await grains.GetGrain<IImageGrain>($"{scoring.JobId}/line-{key}").Process(new ProcessImageRequest(
                new IndexedImage(-1, image.ImageId, image.BlobName),
                scoring.BackboneJson,
                options,
                scoring.ReferenceImages,
                scoring.ReferenceFeatureBlobs,
                scoring.ReferencesPerImage,
                scoring.NormalFeatureBlobs,
                LineImageOutcomes.BlobOf(prefix, image.ImageId),
                CacheFeatures: false)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            logger.LogWarning(e, "Line image {ImageId} of {Line} could not be processed now", image.ImageId, prefix);
            return (new LineImageResult(image.ImageId, image.FileName, false, null, ProcessingUnavailable), null);
        }
        var failure = processed.Failure is { } failed ? new LineImageError(failed.Reason, failed.Message)
            : processed.Embedding.Length != catalog.EmbeddingDimension ? new LineImageError("dimension",
                $"the image's embedding has {processed.Embedding.Length} values; catalog version {catalog.Version} has {catalog.EmbeddingDimension}.")
            : null;
        if (failure is not null)
        {
            return (logFailures
                ? new LineImageResult(image.ImageId, image.FileName, false, ErrorDecision(catalog.Version, image, failure), failure)
                : new LineImageResult(image.ImageId, image.FileName, false, null, failure), null);
        }
        var decision = rule.Assign(processed.Embedding);
        return (new LineImageResult(image.ImageId, image.FileName, false, ToLineDecision(catalog, image, decision, processed.AnomalyScore), null), processed.Embedding);
    }

    private static LineDecision ErrorDecision(int catalogVersion, StoredImage image, LineImageError error) => new(
        image.ImageId, image.FileName, DateTimeOffset.UtcNow, catalogVersion, LineDecision.ErrorDecision, LineDecision.ErrorDecision, "",
        null, null, new Dictionary<string, double>(), new Dictionary<string, double>(), 0, 0, null, error);

    private static LineDecision ToLineDecision(LineCatalog catalog, StoredImage image, AssignmentDecision decision, double? anomalyScore)
    {
        var distances = new Dictionary<string, double>(StringComparer.Ordinal);
        var increases = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var c = 0; c < catalog.Clusters.Count; c++)
        {
            distances[catalog.Clusters[c].Name] = decision.Distances[c];
            increases[catalog.Clusters[c].Name] = decision.WardIncreases[c];
        }
        var outcome = JsonNamingPolicy.CamelCase.ConvertName(decision.Outcome.ToString());
        return new LineDecision(
            image.ImageId,
            image.FileName,
            DateTimeOffset.UtcNow,
            catalog.Version,
            decision.AssignedName ?? LineDecision.Novel,
            outcome,
            decision.NearestName,
            anomalyScore,
            anomalyScore is { } score && catalog.DetectionThreshold is { } threshold ? score > threshold : null,
            distances,
            increases,
            decision.Margin,
            decision.AcceptanceRadius,
            double.IsFinite(decision.NoveltyScore) ? decision.NoveltyScore : null);
    }

    private static JsonSerializerOptions CreateLogJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>A line whose catalog cannot process new images (the API answers 409 when a new version would help, else 400).</summary>
/// <param name="message">Why, for a person.</param>
/// <param name="IsConflict">True when the catalog lacks its job's processing record (make a new version from a job).</param>
public sealed class LineCannotTakeImagesException(string message, bool IsConflict) : InvalidOperationException(message)
{
    /// <summary>True when the catalog lacks its job's processing record.</summary>
    public bool IsConflict { get; } = IsConflict;
}
