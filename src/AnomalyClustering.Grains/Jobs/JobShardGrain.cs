using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Images;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// One chunk of a job's images (see <see cref="IJobShardGrain"/>): processes each image not yet done through its image
/// grain with bounded concurrency, records it in the bitmap, checkpoints what changed, and writes the chunk's embeddings
/// blob at the end. A fault of the cluster or the store that outlasts the retries stops the run without marking any image
/// failed; the coordinator's next call resumes it. Reentrant, so that the coordinator's calls are answered while it works.
/// </summary>
[Reentrant]
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed class JobShardGrain : Grain, IJobShardGrain
{
    // A run stopped by a fault is not restarted at once: the dependency it waited for is likely still away.
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

    private readonly IPersistentState<JobShardState> _state;
    private readonly IBlobStore _store;
    private readonly CoordinatorOptions _options;
    private readonly ILogger<JobShardGrain> _logger;
    private readonly CheckpointedState<JobShardState> _checkpoints;
    private CancellationTokenSource _stop = new();
    private Task? _run;
    private DateTimeOffset _lastFault = DateTimeOffset.MinValue;

    public JobShardGrain(
        [PersistentState("shard", GrainStorageNames.Jobs)] IPersistentState<JobShardState> state,
        IBlobStore store,
        IOptions<CoordinatorOptions> options,
        ILogger<JobShardGrain> logger)
    {
        _state = state;
        _store = store;
        _options = options.Value;
        _logger = logger;
        _checkpoints = new CheckpointedState<JobShardState>(state, _options.CheckpointInterval);
    }

    private string JobId => JobShardKey.JobIdOf(this.GetPrimaryKeyString());

    private int Shard => JobShardKey.ShardOf(this.GetPrimaryKeyString());

    private JobShardState S => _state.State;

    /// <inheritdoc />
    public Task<ShardProgress> Run(ShardWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (S.EmbeddingsBlob is null && _run is not { IsCompleted: false } && DateTimeOffset.UtcNow - _lastFault >= RestartDelay)
        {
            if (_stop.IsCancellationRequested)
            {
                _stop = new CancellationTokenSource();
            }
            // A shard that starts again after a fault or on another silo says so: its resumption is visible in the log.
            _logger.LogInformation("Job {JobId} shard {Shard} runs: {Processed} of {Images} images done so far", JobId, Shard, S.Processed, S.Images);
            _run = RunGuardedAsync(work, _stop.Token);
        }
        return Task.FromResult(Progress());
    }

    /// <inheritdoc />
    public async Task Stop()
    {
        await _stop.CancelAsync().ConfigureAwait(true);
        if (_run is { } run)
        {
            await run.ConfigureAwait(true);
        }
    }

    /// <inheritdoc />
    public async Task Forget()
    {
        await Stop().ConfigureAwait(true);
        await _state.ClearStateAsync().ConfigureAwait(true);
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ImageFailure>> GetFailures() => Task.FromResult<IReadOnlyList<ImageFailure>>(S.Failures.ToArray());

    private ShardProgress Progress() =>
        new(S.Images, S.Processed, S.Failures.Count, S.CacheHits, S.EmbeddingsBlob, S.GridHeight, S.GridWidth);

    private async Task RunGuardedAsync(ShardWork work, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(work, cancellationToken).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("Job {JobId} shard {Shard} stopped", JobId, Shard);
        }
        catch (Exception e)
        {
            // Nothing is lost: done images are in the bitmap, the others are done by the run the coordinator starts next.
            _lastFault = DateTimeOffset.UtcNow;
            _logger.LogWarning(e, "Job {JobId} shard {Shard} paused after {Processed} of {Images} images; it resumes on the coordinator's next call",
                JobId, Shard, S.Processed, S.Images);
            if (e is InconsistentStateException)
            {
                // A write whose answer was lost (Redis restarted) may have landed: go on from the stored bitmap (what it
                // lacks is done again; outcome blobs are overwritten with the same values).
                await ReadStoredStateAsync().ConfigureAwait(true);
            }
        }
        finally
        {
            await SettleStateAsync().ConfigureAwait(true);
        }
    }

    private async Task RunAsync(ShardWork work, CancellationToken cancellationToken)
    {
        var chunk = await JobManifestStore.ReadImageChunkAsync(_store, work.Manifest, Shard, cancellationToken).ConfigureAwait(true);
        if (S.Done.Length == 0)
        {
            S.Images = chunk.Length;
            S.Done = new ulong[(chunk.Length + 63) / 64];
        }
        var first = Shard * work.Manifest.ChunkSize;
        var embeddings = new float[chunk.Length][];
        var scores = new double[chunk.Length];
        Array.Fill(scores, double.NaN);
        var hashes = new string?[chunk.Length];
        var failed = S.Failures.Select(failure => failure.Id).ToHashSet(StringComparer.Ordinal);

        // A resumed shard reads back what its images left in their outcome blobs.
        var resumed = Enumerable.Range(0, chunk.Length).Where(p => S.IsDone(p) && !failed.Contains(chunk[p].Id));
        await BoundedFanOut.ForEachAsync(resumed, work.MaxInFlightImages, async p =>
        {
            var bytes = await BoundedFanOut.WithRetriesAsync(
                () => _store.ReadAllBytesAsync(JobBlobNames.ImageOutcome(JobId, first + p), cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(true);
            (embeddings[p], _, var score) = ImageOutcomeFormat.FromBytes(bytes);
            scores[p] = score ?? double.NaN;
            hashes[p] = ImageOutcomeFormat.ContentSha256FromBytes(bytes);
        }, () => Task.CompletedTask, cancellationToken).ConfigureAwait(true);

        var pending = Enumerable.Range(0, chunk.Length).Where(p => !S.IsDone(p));
        var watchdog = new ImageCallWatchdog(_options.ImageCallStallTimeout, _logger, $"Job {JobId} shard {Shard}");
        await BoundedFanOut.ForEachAsync(pending, work.MaxInFlightImages, async p =>
        {
            var image = chunk[p];
            var request = new ProcessImageRequest(
                new IndexedImage(first + p, image.Id, image.BlobName), work.BackboneDescriptionJson, work.Options, work.ReferenceImages,
                work.ReferenceFeatureBlobs, work.ReferencesPerImage, work.NormalFeatureBlobs, JobBlobNames.ImageOutcome(JobId, first + p), work.CacheFeatures,
                work.ReferenceContentHashes);
            var grain = GrainFactory.GetGrain<IImageGrain>(ImageGrainKey.For(JobId, first + p));
            ProcessedImage outcome;
            try
            {
                outcome = await BoundedFanOut.WithRetriesAsync(() => watchdog.WatchAsync(grain.Process(request), image.Id, cancellationToken), cancellationToken).ConfigureAwait(true);
            }
            catch (Exception e) when (e is not OperationCanceledException && !BoundedFanOut.IsTransient(e))
            {
                // An unexpected error of this image's own costs the image, not the job. A transient fault that outlasted
                // the retries is not the image's fault: it stops the run and the image is done when the shard resumes.
                var message = JobIncidents.Record(_logger, $"job {JobId}, image {image.Id}", e, "the image could not be processed");
                outcome = new ProcessedImage([], null, 0, 0, false, new ImageFailure(image.Id, image.BlobName, JobIncidents.InternalReason, message));
            }
            if (outcome.Failure is { } failure)
            {
                S.Failures.Add(failure);
            }
            else
            {
                embeddings[p] = outcome.Embedding;
                scores[p] = outcome.AnomalyScore ?? double.NaN;
                hashes[p] = outcome.ContentSha256;
                S.CacheHits += outcome.CacheHit ? 1 : 0;
                (S.GridHeight, S.GridWidth) = (outcome.GridHeight, outcome.GridWidth);
            }
            S.MarkDone(p);
            S.Processed++;
            AnomalyClusteringTelemetry.JobImagesDone.Add(1, new KeyValuePair<string, object?>("stage", "process"));
        }, CheckpointAsync, cancellationToken).ConfigureAwait(true);

        await WriteEmbeddingsAsync(embeddings, scores, hashes, first, cancellationToken).ConfigureAwait(true);
    }

    private async Task WriteEmbeddingsAsync(float[][] embeddings, double[] scores, string?[] hashes, int first, CancellationToken cancellationToken)
    {
        var kept = Enumerable.Range(0, embeddings.Length).Where(p => embeddings[p] is not null).ToArray();
        var dimension = kept.Length == 0 ? 0 : embeddings[kept[0]].Length;
        var matrix = new float[kept.Length * dimension];
        for (var k = 0; k < kept.Length; k++)
        {
            embeddings[kept[k]].CopyTo(matrix, k * dimension);
        }
        var columns = new ShardEmbeddings([.. kept.Select(p => first + p)], dimension, matrix, [.. kept.Select(p => scores[p])], [.. kept.Select(p => hashes[p])]);
        var blob = JobBlobNames.ShardEmbeddings(JobId, Shard);
        using (var content = new MemoryStream(ShardEmbeddingsFormat.ToBytes(columns), writable: false))
        {
            await BoundedFanOut.WithRetriesAsync(async () =>
            {
                content.Position = 0;
                await _store.PutAsync(blob, content, cancellationToken: cancellationToken).ConfigureAwait(true);
                return true;
            }, cancellationToken).ConfigureAwait(true);
        }
        S.EmbeddingsBlob = blob;
        await WriteStateAsync().ConfigureAwait(true);
        _logger.LogInformation("Job {JobId} shard {Shard} complete: {Images} images, {Failed} failed", JobId, Shard, S.Images, S.Failures.Count);
    }

    private async Task CheckpointAsync()
    {
        // Keeps the grain alive while it works: a running shard has few incoming calls, which idle collection would read as idle.
        DelayDeactivation(TimeSpan.FromMinutes(30));
        await _checkpoints.CheckpointAsync().ConfigureAwait(true);
    }

    /// <summary>Persists the progress of a run that ended, if storage can be reached; otherwise the next checkpoint does.</summary>
    private async Task SettleStateAsync()
    {
        try
        {
            await WriteStateAsync().ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "Job {JobId} shard {Shard}: progress could not be saved; images done since the last checkpoint are done again", JobId, Shard);
        }
    }

    private Task WriteStateAsync() => _checkpoints.WriteAsync();

    private async Task ReadStoredStateAsync()
    {
        var held = _state.State;
        try
        {
            await _state.ReadStateAsync().ConfigureAwait(true);
            if (!_state.RecordExists)
            {
                // The stored state is gone (Redis restarted without its data): what this activation holds is the only copy;
                // the next write stores it again.
                _state.State = held;
            }
        }
        catch (Exception e) when (BoundedFanOut.IsTransient(e))
        {
            _logger.LogWarning(e, "Job {JobId} shard {Shard}: its stored state could not be read yet", JobId, Shard);
        }
    }
}
