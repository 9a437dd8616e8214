using System.Security.Cryptography;
using System.Text.Json;
using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Lines;

/// <summary>
/// Decides posted images against a line's catalog: each new image is stored under the line, processed by an image grain
/// exactly as the catalog's source job processed its images (its options, backbone, references or normal bank), assigned
/// by <see cref="WardAssignmentRule"/>, and logged once by its content hash (<see cref="ILineDecisionLogGrain"/>). An image
/// decided before is answered from the log without being processed again.
/// </summary>
public sealed class LineImageProcessing(IGrainFactory grains, IBlobStore store, ILogger<LineImageProcessing> logger)
{
    private static readonly JsonSerializerOptions LogJson = JobApiJson.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>A posted image: its file name and bytes, or why it could not be read.</summary>
    public sealed record PostedImage(string? FileName, byte[]? Bytes, LineImageError? Error);

    /// <summary>The job options a catalog's images are processed with, or a 400/409 naming why the catalog cannot take images.</summary>
    public static JobOptions OptionsOf(LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog.Scoring is not { } scoring)
        {
            throw new ApiProblemException(StatusCodes.Status409Conflict, "Line cannot take images",
                $"line '{catalog.Line}' version {catalog.Version} does not record how its job processed images (it was made from a result document, or from a job whose coordinator state was gone); make a new version from a job with POST /lines.");
        }
        var options = JsonSerializer.Deserialize<JobOptions>(scoring.OptionsJson, LogJson)!;
        switch (ClusteringOptionNames.ParseMode(options.Mode))
        {
            case ClusteringMode.SemiSupervised when scoring.NormalFeatureBlobs.Count == 0:
                throw ApiProblemException.BadRequest($"line '{catalog.Line}' comes from semi-supervised job '{scoring.JobId}', whose normal bank is not recorded; new images cannot be scored against it.", "Unsupported line");
            case ClusteringMode.Unsupervised when scoring.ReferenceFeatureBlobs.Count == 0:
                throw ApiProblemException.BadRequest($"line '{catalog.Line}' comes from unsupervised job '{scoring.JobId}', whose reference images are not recorded; new images cannot be scored against them.", "Unsupported line");
            default:
                return options;
        }
    }

    /// <summary>Decides <paramref name="images"/> (in order) against <paramref name="catalog"/>, stored under line prefix <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<LineImageResult>> DecideAsync(string prefix, LineCatalog catalog, JobOptions options, IReadOnlyList<PostedImage> images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(images);
        var rule = new WardAssignmentRule(catalog);
        var results = await Task.WhenAll(images.Select(image => DecideOneAsync(prefix, catalog, rule, options, image, cancellationToken))).ConfigureAwait(false);
        // New decisions are logged together; the log answers with the decision stored per id (an earlier one wins).
        var fresh = results.Select((result, index) => (result, index)).Where(pair => pair.result is { Repeated: false, Decision: not null }).ToList();
        if (fresh.Count == 0)
        {
            return results;
        }
        var stored = await grains.GetGrain<ILineDecisionLogGrain>(prefix).Append(
            [.. fresh.Select(pair => new LineDecisionEntry(pair.result.ImageId!, pair.result.Decision!.DecidedAt, JsonSerializer.Serialize(pair.result.Decision, LogJson)))]).ConfigureAwait(false);
        for (var f = 0; f < fresh.Count; f++)
        {
            var decision = JsonSerializer.Deserialize<LineDecision>(stored[f], LogJson)!;
            var own = fresh[f].result.Decision!;
            var repeated = decision.DecidedAt != own.DecidedAt || decision.FileName != own.FileName;
            results[fresh[f].index] = fresh[f].result with { Decision = decision, Repeated = repeated };
        }
        return results;
    }

    /// <summary>Parses one line of the decision log.</summary>
    public static LineDecision ParseLogged(string json) => JsonSerializer.Deserialize<LineDecision>(json, LogJson)!;

    private async Task<LineImageResult> DecideOneAsync(string prefix, LineCatalog catalog, WardAssignmentRule rule, JobOptions options, PostedImage image, CancellationToken cancellationToken)
    {
        if (image.Error is { } unreadable)
        {
            return new LineImageResult(null, image.FileName, false, null, unreadable);
        }
        var imageId = Convert.ToHexStringLower(SHA256.HashData(image.Bytes!));
        try
        {
            var earlier = await store.ReadAllBytesAsync(LineBlobNames.DecisionOf(prefix, imageId), cancellationToken: cancellationToken).ConfigureAwait(false);
            return new LineImageResult(imageId, image.FileName, true, ParseLogged(System.Text.Encoding.UTF8.GetString(earlier)), null);
        }
        catch (BlobNotFoundException)
        {
            // A new image.
        }
        var scoring = catalog.Scoring!;
        var blob = prefix + "images/" + imageId;
        using (var content = new MemoryStream(image.Bytes!, writable: false))
        {
            await store.PutAsync(blob, content, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        ProcessedImage processed;
        try
        {
            // Keyed under the source job: a worker's normal bank of that job (NormalBankCache) serves the line's images too.
            processed = await grains.GetGrain<IImageGrain>($"{scoring.JobId}/line-{imageId[..32]}").Process(new ProcessImageRequest(
                new IndexedImage(-1, imageId, blob),
                scoring.BackboneJson,
                options,
                scoring.ReferenceImages,
                scoring.ReferenceFeatureBlobs,
                scoring.ReferencesPerImage,
                scoring.NormalFeatureBlobs,
                prefix + "outcomes/" + imageId + ".bin",
                CacheFeatures: false)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            logger.LogError(e, "Line image {ImageId} of {Line} could not be processed", imageId, prefix);
            return new LineImageResult(imageId, image.FileName, false, null, new LineImageError("unavailable",
                "the image could not be processed now (no worker answered in time, or the store was away); post it again."));
        }
        if (processed.Failure is { } failure)
        {
            return new LineImageResult(imageId, image.FileName, false, null, new LineImageError(failure.Reason, failure.Message));
        }
        if (processed.Embedding.Length != catalog.EmbeddingDimension)
        {
            return new LineImageResult(imageId, image.FileName, false, null, new LineImageError("dimension",
                $"the image's embedding has {processed.Embedding.Length} values; catalog version {catalog.Version} has {catalog.EmbeddingDimension}."));
        }
        var decision = rule.Assign(processed.Embedding);
        return new LineImageResult(imageId, image.FileName, false, ToLineDecision(catalog, imageId, image.FileName, decision, processed.AnomalyScore), null);
    }

    private static LineDecision ToLineDecision(LineCatalog catalog, string imageId, string? fileName, AssignmentDecision decision, double? anomalyScore)
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
            imageId,
            fileName,
            DateTimeOffset.UtcNow,
            catalog.Version,
            decision.AssignedName ?? "novel",
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
}
