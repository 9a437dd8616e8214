using System.Text.RegularExpressions;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Placement;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Consumes one stream of a line's intake (implicit subscription to <see cref="LineIntakeStreams.Namespace"/>): per message,
/// the same decision path as <c>POST /lines/{name}/images</c> (<see cref="LineImageDecider"/>), logged once per image id. A
/// message the image or its sender is at fault for (not an image, a blob outside the line, an unknown line) is logged as
/// an <c>error</c> decision, so that every message is accounted for; a dependency outage (no worker, no store) throws, so
/// that the stream redelivers the message (<see cref="Hosting.LineIntakeStreaming"/> sets how long) and nothing is stored for it.
/// </summary>
[ImplicitStreamSubscription(LineIntakeStreams.Namespace)]
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineIntakeGrain(LineImageDecider decider, LineCatalogStore catalogs, TimeProvider clock, ILogger<LineIntakeGrain> logger)
    : Grain, ILineIntakeGrain, IStreamSubscriptionObserver, IAsyncObserver<LineIntakeMessage>
{
    // A line's newest catalog is read again after this long: a new version takes effect within it, without a read per image.
    private static readonly TimeSpan CatalogLifetime = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, (LineCatalog? Catalog, DateTimeOffset ReadAt)> catalogsByPrefix = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        ArgumentNullException.ThrowIfNull(handleFactory);
        await handleFactory.Create<LineIntakeMessage>().ResumeAsync(this).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task OnNextAsync(LineIntakeMessage item, StreamSequenceToken? token = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        string prefix;
        try
        {
            prefix = LineCatalogStore.PrefixOf(item.Tenant, item.Line);
        }
        catch (InvalidLineNameException e)
        {
            // No line folder can hold a decision for it: the only message that is not stored, and it is logged loudly.
            logger.LogError("Intake message for image {ImageId} dropped: {Reason}", item.ImageId, e.Message);
            return;
        }
        var image = new LineImageDecider.StoredImage(item.ImageId, item.FileName, item.BlobName, item.EnqueuedAt);
        if (!ImageId().IsMatch(item.ImageId))
        {
            logger.LogError("Intake message for line {Line} dropped: image id '{ImageId}' is not valid", prefix, item.ImageId);
            return;
        }
        if (await decider.StoredDecisionAsync(prefix, item.ImageId, CancellationToken.None).ConfigureAwait(true) is { IsFinal: true })
        {
            return;
        }
        if (!item.BlobName.StartsWith(prefix, StringComparison.Ordinal) || item.BlobName.Contains("..", StringComparison.Ordinal))
        {
            await decider.RecordFailureAsync(prefix, 0, image, new LineImageError("invalid-message",
                $"blob '{item.BlobName}' is not in the line's folder '{prefix}'; an edge gateway writes a line's images under it.")).ConfigureAwait(true);
            return;
        }
        if (await NewestCatalogAsync(prefix).ConfigureAwait(true) is not { } catalog)
        {
            await decider.RecordFailureAsync(prefix, 0, image, new LineImageError(LineImageError.UnknownLine,
                $"line '{item.Line}' has no catalog; make one from a completed job (POST /lines, or line create) before sending its images.")).ConfigureAwait(true);
            return;
        }
        try
        {
            LineImageDecider.OptionsOf(catalog);
        }
        catch (LineCannotTakeImagesException e)
        {
            await decider.RecordFailureAsync(prefix, catalog.Version, image, new LineImageError("line-cannot-take-images", e.Message)).ConfigureAwait(true);
            return;
        }
        var result = (await decider.DecideAsync(prefix, catalog, [image], logFailures: true, CancellationToken.None).ConfigureAwait(true))[0];
        if (result.Error is { Reason: LineImageError.Unavailable } unavailable)
        {
            throw new LineIntakeUnavailableException($"image {item.ImageId} of {prefix}: {unavailable.Message}");
        }
        if (result is { Repeated: false, Decision: { } decision })
        {
            LogDecided(logger, item.ImageId, prefix, decision.Decision, (clock.GetUtcNow() - item.EnqueuedAt).TotalMilliseconds);
        }
    }

    /// <inheritdoc />
    public Task OnCompletedAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Intake stream {Stream} reported an error", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    private async Task<LineCatalog?> NewestCatalogAsync(string prefix)
    {
        var now = clock.GetUtcNow();
        if (catalogsByPrefix.TryGetValue(prefix, out var cached) && now - cached.ReadAt < CatalogLifetime && cached.Catalog is not null)
        {
            return cached.Catalog;
        }
        var newest = await catalogs.NewestAsync(prefix, CancellationToken.None).ConfigureAwait(true);
        catalogsByPrefix[prefix] = (newest?.Catalog, now);
        return newest?.Catalog;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Intake image {ImageId} of {Line}: {Decision}, {LatencyMs} ms after it was sent")]
    private static partial void LogDecided(ILogger logger, string imageId, string line, string decision, double latencyMs);

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\z")]
    private static partial Regex ImageId();
}

/// <summary>An intake image could not be decided because a dependency (a worker, the store) was away; the stream redelivers it.</summary>
public sealed class LineIntakeUnavailableException(string message) : Exception(message);
