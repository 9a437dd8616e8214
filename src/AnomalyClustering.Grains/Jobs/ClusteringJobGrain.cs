using System.Diagnostics;
using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Images;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The coordinator of one job (METHOD sections 1-5, distributed): embeds every image through its image grain with
/// bounded concurrency, fixes the seeded reference sample (unsupervised) or the normal set (semi-supervised), has every
/// image grain weigh its patches, clusters the image embeddings and writes the result document. Reentrant, so that
/// status and cancel calls are answered while the job runs; every step persists its progress so that a coordinator
/// reactivated elsewhere (after a silo failure; a reminder wakes it) goes on from where the job was.
/// </summary>
[Reentrant]
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed class ClusteringJobGrain : Grain, IClusteringJobGrain, IRemindable
{
    private const string ResumeReminder = "resume";
    private static readonly TimeSpan ResumePeriod = TimeSpan.FromMinutes(1);

    private readonly IPersistentState<JobCoordinatorState> _state;
    private readonly IBlobStore _store;
    private readonly CoordinatorOptions _options;
    private readonly ILogger<ClusteringJobGrain> _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _namingGate = new(1, 1);
    private CancellationTokenSource _cancellation = new();
    private Task? _run;
    private DateTimeOffset _lastCheckpoint;

    // Progress counts kept beside the per-image flags (counted once at activation), so that a status is O(1) in the images.
    private int _embeddedCount;
    private int _weightedCount;

    public ClusteringJobGrain(
        [PersistentState("job", GrainStorageNames.Jobs)] IPersistentState<JobCoordinatorState> state,
        IBlobStore store,
        IOptions<CoordinatorOptions> options,
        ILogger<ClusteringJobGrain> logger)
    {
        _state = state;
        _store = store;
        _options = options.Value;
        _logger = logger;
    }

    private string JobId => this.GetPrimaryKeyString();

    private JobCoordinatorState S => _state.State;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _embeddedCount = S.ImageEmbedded.Count(done => done) + S.NormalEmbedded.Count(done => done);
        _weightedCount = S.ImageWeighted.Count(done => done);
        if (S.State.IsActive())
        {
            _logger.LogInformation("Job {JobId} resumes in state {State}", JobId, S.State);
            StartRun();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<JobStatus> Submit(JobSpecification specification)
    {
        ArgumentNullException.ThrowIfNull(specification);
        JobBlobNames.ValidateJobId(JobId);
        if (S.State != JobState.Unknown)
        {
            return Status();
        }
        JobSubmissionCheck.Validate(specification, _options.ClusteringMemoryBudgetBytes);
        var now = DateTimeOffset.UtcNow;
        _state.State = new JobCoordinatorState
        {
            Specification = specification,
            State = JobState.Queued,
            CreatedAt = now,
            UpdatedAt = now,
            ImageEmbedded = new bool[specification.Images.Count],
            ImageFeatures = new string?[specification.Images.Count],
            ImageWeighted = new bool[specification.Images.Count],
        };
        await WriteStateAsync().ConfigureAwait(true);
        await RecordInRegistryAsync().ConfigureAwait(true);
        await this.RegisterOrUpdateReminder(ResumeReminder, ResumePeriod, ResumePeriod).ConfigureAwait(true);
        AnomalyClusteringTelemetry.ImagesReceived.Add(specification.Images.Count + specification.NormalImages.Count);
        _logger.LogInformation("Job {JobId} accepted: {Images} images, {Normals} normal images, mode {Mode}", JobId, specification.Images.Count, specification.NormalImages.Count, specification.Options.Mode);
        StartRun();
        return Status();
    }

    /// <inheritdoc />
    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    /// <inheritdoc />
    public Task<IReadOnlyList<ImageFailure>> GetFailures() => Task.FromResult<IReadOnlyList<ImageFailure>>(S.Failures.ToArray());

    /// <inheritdoc />
    public async Task<JobStatus> Cancel()
    {
        if (!S.State.IsActive())
        {
            return Status();
        }
        await _cancellation.CancelAsync().ConfigureAwait(true);
        await FinishAsync(JobState.Cancelled, error: null).ConfigureAwait(true);
        return Status();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<int, string>> NameCluster(int cluster, string? name)
    {
        if (S.State != JobState.Completed || S.ResultBlob is null || S.ClusterCount is not { } clusterCount)
        {
            throw new InvalidJobException($"job '{JobId}' is {S.State.ToString().ToLowerInvariant()}; clusters can be named once it has completed.", "state");
        }
        if (cluster < 0 || cluster >= clusterCount)
        {
            throw new InvalidJobException($"job '{JobId}' has {clusterCount} clusters (0 to {clusterCount - 1}); there is no cluster {cluster}.", "cluster");
        }
        // Reentrant grain: two renames must not interleave their read-modify-write of the result document.
        await _namingGate.WaitAsync().ConfigureAwait(true);
        try
        {
            ClusteringResult result;
            ResultSource source;
            await using (var document = await _store.OpenReadAsync(S.ResultBlob).ConfigureAwait(true))
            {
                (result, source) = ClusteringResultJson.Read(document);
            }
            // The result document is where names live; the grain keeps no second copy.
            ClusterNames names;
            try
            {
                names = result.Names.With(cluster, name);
            }
            catch (InvalidClusteringInputException e)
            {
                throw new InvalidJobException(e.Message, "name");
            }
            using (var updated = new MemoryStream())
            {
                ClusteringResultJson.Write(updated, result with { Names = names }, source);
                updated.Position = 0;
                await _store.PutAsync(S.ResultBlob, updated).ConfigureAwait(true);
            }
            return names.ByCluster;
        }
        finally
        {
            _namingGate.Release();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobImage>> GetImages() => Task.FromResult(S.Specification?.Images ?? []);

    /// <inheritdoc />
    public async Task Delete()
    {
        // Stop first and wait for the run to end: its in-flight image calls would otherwise write outcome blobs (or the
        // result) after the caller has deleted the job's blobs. The run ends on cancellation once those calls return.
        await _cancellation.CancelAsync().ConfigureAwait(true);
        if (_run is { } run)
        {
            await run.ConfigureAwait(true);
        }
        await UnregisterResumeReminderAsync().ConfigureAwait(true);
        await _state.ClearStateAsync().ConfigureAwait(true);
        _logger.LogInformation("Job {JobId} deleted: its state is cleared", JobId);
        // A fresh activation starts from the cleared state (the progress counts in fields go with this one).
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation already resumed an unfinished job; the reminder only exists to cause that activation after a failure.
        if (!S.State.IsActive())
        {
            return UnregisterResumeReminderAsync();
        }
        StartRun();
        return Task.CompletedTask;
    }

    private void StartRun()
    {
        if (_run is { IsCompleted: false })
        {
            return;
        }
        if (_cancellation.IsCancellationRequested)
        {
            _cancellation = new CancellationTokenSource();
        }
        _run = RunGuardedAsync(_cancellation.Token);
    }

    private async Task RunGuardedAsync(CancellationToken cancellationToken)
    {
        using var span = AnomalyClusteringTelemetry.StartSpan("job", JobId);
        span?.SetTag("anomaly_clustering.images", S.Specification?.Images.Count);
        AnomalyClusteringTelemetry.JobsActive.Add(1);
        try
        {
            await RunAsync(cancellationToken).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || !S.State.IsActive())
        {
            _logger.LogInformation("Job {JobId} stopped: cancelled", JobId);
        }
        catch (InvalidClusteringInputException e)
        {
            await FinishAsync(JobState.Failed, e.Message).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            // The job's error is served to the caller and written into nothing else; the exception text stays in the log.
            var error = JobIncidents.Record(_logger, $"job {JobId}", e, "the job stopped on an unexpected error");
            await FinishAsync(JobState.Failed, error).ConfigureAwait(true);
        }
        finally
        {
            AnomalyClusteringTelemetry.JobsActive.Add(-1);
            span?.SetTag("anomaly_clustering.state", S.State.ToString());
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var specification = S.Specification!;
        var options = JobOptionsMapping.ToPipelineOptions(specification.Options, _options.ClusteringMemoryBudgetBytes);
        if (S.State is JobState.Queued or JobState.Embedding)
        {
            await EmbedAsync(specification, options, cancellationToken).ConfigureAwait(true);
        }
        var kept = Enumerable.Range(0, specification.Images.Count).Where(i => S.ImageFeatures[i] is not null).ToArray();
        if (kept.Length < 2)
        {
            throw new InvalidClusteringInputException(
                $"only {kept.Length} of {specification.Images.Count} images could be used; clustering needs at least 2{MessageParts.InParentheses(S.Failures.FirstOrDefault(f => !f.IsNormalImage)?.Message)}.", "images");
        }
        var labels = specification.Images[0].Label is null ? null : kept.Select(i => specification.Images[i].Label!).ToArray();
        EmbeddingClustering.CheckClusterCount(options, kept.Length, labels?.Distinct(StringComparer.Ordinal).Count());

        var (embeddings, weights, anomalyScores) = await WeighAsync(specification, options, kept, cancellationToken).ConfigureAwait(true);
        var threshold = await DetectionThresholdAsync(options, cancellationToken).ConfigureAwait(true);
        await ClusterAsync(specification, options, kept, labels, embeddings, weights, (anomalyScores, threshold), cancellationToken).ConfigureAwait(true);
    }

    private async Task EmbedAsync(JobSpecification specification, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        await SetStateAsync(JobState.Embedding).ConfigureAwait(true);
        var clock = Stopwatch.StartNew();
        if (options.Mode == ClusteringMode.SemiSupervised && S.NormalEmbedded.Length == 0)
        {
            S.SelectedNormals = JobPlan.SelectNormalImageIndices(specification.NormalImages.Count, options.NormalImageLimit, options.Seed);
            S.NormalEmbedded = new bool[S.SelectedNormals.Length];
            S.NormalFeatures = new string?[S.SelectedNormals.Length];
        }

        // Normal images first: the normal bank is needed by every image's weighting.
        var work = Enumerable.Range(0, S.SelectedNormals.Length).Where(n => !S.NormalEmbedded[n]).Select(n => (Index: n, Normal: true))
            .Concat(Enumerable.Range(0, specification.Images.Count).Where(i => !S.ImageEmbedded[i]).Select(i => (Index: i, Normal: false)));
        await ForEachBoundedAsync(work, async item =>
        {
            var image = item.Normal ? specification.NormalImages[S.SelectedNormals[item.Index]] : specification.Images[item.Index];
            var request = new EmbedImageRequest(image.Id, image.BlobName, specification.BackboneDescriptionJson, specification.Options, item.Normal);
            EmbeddedImage outcome;
            try
            {
                var grain = GrainFactory.GetGrain<IImageGrain>(ImageGrainKey.For(JobId, item.Index, item.Normal));
                outcome = await BoundedFanOut.WithRetriesAsync(() => grain.Embed(request), cancellationToken).ConfigureAwait(true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One image's unexpected failure (a worker lost mid-call, a storage error) costs that image, not the job.
                // Failures reach the answers and the result document, so the exception text stays in the log.
                var message = JobIncidents.Record(_logger, $"job {JobId}, image {image.Id}", e, "the image could not be embedded");
                outcome = new EmbeddedImage(null, false, 0, 0, new ImageFailure(image.Id, image.BlobName, JobIncidents.InternalReason, message, item.Normal));
            }
            if (outcome.Failure is { } failure)
            {
                S.Failures.Add(failure);
            }
            else
            {
                S.CacheHits += outcome.CacheHit ? 1 : 0;
                (S.GridHeight, S.GridWidth) = (outcome.GridHeight, outcome.GridWidth);
            }
            AnomalyClusteringTelemetry.JobImagesDone.Add(1, new KeyValuePair<string, object?>("stage", "embed"));
            if (item.Normal)
            {
                S.NormalFeatures[item.Index] = outcome.FeatureBlob;
                S.NormalEmbedded[item.Index] = true;
                _embeddedCount++;
            }
            else
            {
                S.ImageFeatures[item.Index] = outcome.FeatureBlob;
                S.ImageEmbedded[item.Index] = true;
                _embeddedCount++;
            }
        }, cancellationToken).ConfigureAwait(true);
        AddStageTime(PipelineStage.EmbedImages, clock.Elapsed);
    }

    private async Task<(float[][] Embeddings, float[][] Weights, double[]? AnomalyScores)> WeighAsync(
        JobSpecification specification, ClusteringJobOptions options, int[] kept, CancellationToken cancellationToken)
    {
        string[] normalBlobs = [];
        if (options.Mode == ClusteringMode.SemiSupervised)
        {
            normalBlobs = S.NormalFeatures.Where(blob => blob is not null).Select(blob => blob!).ToArray();
            if (normalBlobs.Length == 0)
            {
                throw new InvalidClusteringInputException(
                    $"none of the {S.SelectedNormals.Length} normal images could be used; semi-supervised mode needs at least one{MessageParts.InParentheses(S.Failures.FirstOrDefault(f => f.IsNormalImage)?.Message)}.", "normalImages");
            }
        }
        var sample = JobPlan.UsesReferenceSample(options, kept.Length)
            ? ReferenceSample.Draw(kept.Length, options.ReferenceCount, unchecked((ulong)options.Seed))
            : null;
        await SetStateAsync(JobState.Weighting).ConfigureAwait(true);
        var clock = Stopwatch.StartNew();
        var embeddings = new float[kept.Length][];
        var weights = new float[kept.Length][];
        var anomalyScores = new double?[kept.Length];
        await ForEachBoundedAsync(Enumerable.Range(0, kept.Length), async k =>
        {
            var index = kept[k];
            var outcomeBlob = JobBlobNames.ImageOutcome(JobId, index);
            if (S.ImageWeighted[index])
            {
                (embeddings[k], weights[k], anomalyScores[k]) = await ReadOutcomeAsync(outcomeBlob, cancellationToken).ConfigureAwait(true);
                return;
            }
            IReadOnlyList<string> references = options.Mode != ClusteringMode.Unsupervised ? []
                : sample is null ? kept.Where(other => other != index).Select(other => S.ImageFeatures[other]!).ToArray()
                : sample.ReferencesFor(k).Select(r => S.ImageFeatures[kept[r]]!).ToArray();
            var request = new WeighImageRequest(S.ImageFeatures[index]!, specification.Options.Mode, options.Tau, references, normalBlobs, outcomeBlob);
            var grain = GrainFactory.GetGrain<IImageGrain>(ImageGrainKey.For(JobId, index));
            var weighted = await BoundedFanOut.WithRetriesAsync(() => grain.Weigh(request), cancellationToken).ConfigureAwait(true);
            embeddings[k] = weighted.Embedding;
            weights[k] = weighted.PatchWeights;
            anomalyScores[k] = weighted.AnomalyScore;
            S.ImageWeighted[index] = true;
            _weightedCount++;
            AnomalyClusteringTelemetry.JobImagesDone.Add(1, new KeyValuePair<string, object?>("stage", "weight"));
        }, cancellationToken).ConfigureAwait(true);
        AddStageTime(PipelineStage.WeightPatches, clock.Elapsed);
        // All or nothing: an outcome written before scores were recorded leaves the job without them rather than with gaps.
        return (embeddings, weights, anomalyScores.All(score => score is not null) ? anomalyScores.Select(score => score!.Value).ToArray() : null);
    }

    /// <summary>
    /// Semi-supervised with at least 2 usable normal images: the label-free detection threshold, a quantile of the normal
    /// images' leave-one-out scores (<see cref="DetectionThreshold"/>), each scored by its own grain. Otherwise null.
    /// </summary>
    private async Task<double?> DetectionThresholdAsync(ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var normalBlobs = S.NormalFeatures.Where(blob => blob is not null).Select(blob => blob!).ToArray();
        if (options.Mode != ClusteringMode.SemiSupervised || normalBlobs.Length < 2)
        {
            return null;
        }
        var scores = new double[normalBlobs.Length];
        await ForEachBoundedAsync(Enumerable.Range(0, normalBlobs.Length), async n =>
        {
            var request = new NormalScoreRequest(normalBlobs, n);
            var grain = GrainFactory.GetGrain<IImageGrain>(ImageGrainKey.For(JobId, n, isNormal: true));
            scores[n] = await BoundedFanOut.WithRetriesAsync(() => grain.ScoreNormalLeaveOneOut(request), cancellationToken).ConfigureAwait(true);
        }, cancellationToken).ConfigureAwait(true);
        return DetectionThreshold.FromNormalScores(scores);
    }

    private async Task ClusterAsync(
        JobSpecification specification, ClusteringJobOptions options, int[] kept, string[]? labels, float[][] embeddings, float[][] weights,
        (double[]? Scores, double? Threshold) detection, CancellationToken cancellationToken)
    {
        await SetStateAsync(JobState.Clustering).ConfigureAwait(true);
        var clock = Stopwatch.StartNew();
        var dimension = embeddings[0].Length;
        var matrix = new float[kept.Length * dimension];
        for (var k = 0; k < kept.Length; k++)
        {
            embeddings[k].CopyTo(matrix, k * dimension);
        }
        var ids = kept.Select(i => specification.Images[i].Id).ToArray();
        var span = AnomalyClusteringTelemetry.StartSpan("cluster", JobId);
        span?.SetTag("anomaly_clustering.images", kept.Length);
        var clustered = await Task.Run(() => EmbeddingClustering.Run(matrix, kept.Length, dimension, ids, labels, options, weights, progress: null), cancellationToken)
            .ConfigureAwait(true);
        AnomalyClusteringTelemetry.ClusteringDuration.Record(clock.Elapsed.TotalSeconds);
        AnomalyClusteringTelemetry.ClusteringImages.Record(kept.Length);
        AnomalyClusteringTelemetry.EndStage(span, "cluster", clock);
        AddStageTime(PipelineStage.Cluster, clock.Elapsed);

        var description = BackboneDescription.FromJson(specification.BackboneDescriptionJson, "the job's backbone description");
        var result = ImageDetection.WithAnomalyScores(clustered, detection.Scores, detection.Threshold) with
        {
            Errors = S.Failures.Select(f => new ImageError(f.Id, f.BlobName, f.Reason, f.Message, f.IsNormalImage)).ToArray(),
            PatchGridHeight = S.GridHeight,
            PatchGridWidth = S.GridWidth,
            Timings = S.StageSeconds.Select(pair => new StageTiming(Enum.Parse<PipelineStage>(pair.Key), TimeSpan.FromSeconds(pair.Value))).ToArray(),
        };
        var source = new ResultSource("job", specification.Source, Layout: null, NormalFolder: null, description.Name, new Dictionary<string, int>(), description.Preprocessing);
        using (var document = new MemoryStream())
        {
            ClusteringResultJson.Write(document, result, source);
            document.Position = 0;
            await _store.PutAsync(JobBlobNames.Result(JobId), document, cancellationToken: cancellationToken).ConfigureAwait(true);
        }
        S.ResultBlob = JobBlobNames.Result(JobId);
        S.ClusterCount = result.ClusterCount;
        await FinishAsync(JobState.Completed, error: null).ConfigureAwait(true);
        _logger.LogInformation("Job {JobId} completed: {Images} images in {Clusters} clusters, {Failures} failed", JobId, kept.Length, result.ClusterCount, S.Failures.Count);
    }

    private async Task<(float[], float[], double?)> ReadOutcomeAsync(string blobName, CancellationToken cancellationToken)
    {
        var bytes = await _store.ReadAllBytesAsync(blobName, cancellationToken: cancellationToken).ConfigureAwait(true);
        return ImageOutcomeFormat.FromBytes(bytes);
    }

    /// <summary>
    /// Runs <paramref name="process"/> for every item with at most <see cref="CoordinatorOptions.MaxInFlightImages"/> in flight,
    /// on the grain's scheduler (so the state is only touched by one turn at a time), checkpointing as items complete.
    /// </summary>
    private async Task ForEachBoundedAsync<T>(IEnumerable<T> items, Func<T, Task> process, CancellationToken cancellationToken)
    {
        await BoundedFanOut.ForEachAsync(items, _options.MaxInFlightImages, process, CheckpointAsync, cancellationToken).ConfigureAwait(true);
        await WriteStateAsync().ConfigureAwait(true);
    }

    private async Task CheckpointAsync()
    {
        // Keeps the grain alive while it works: a running job has no incoming calls, which idle collection would read as idle.
        DelayDeactivation(TimeSpan.FromMinutes(30));
        if (DateTimeOffset.UtcNow - _lastCheckpoint >= _options.CheckpointInterval)
        {
            await WriteStateAsync().ConfigureAwait(true);
        }
    }

    private async Task SetStateAsync(JobState state)
    {
        // A cancel (or failure) that landed while the run awaited must not be overwritten by the run's next stage.
        if (!S.State.IsActive())
        {
            throw new OperationCanceledException($"job {JobId} is {S.State}");
        }
        S.State = state;
        await WriteStateAsync().ConfigureAwait(true);
        await RecordInRegistryAsync().ConfigureAwait(true);
    }

    private async Task FinishAsync(JobState state, string? error)
    {
        if (!S.State.IsActive())
        {
            return;
        }
        S.State = state;
        S.Error = error;
        await WriteStateAsync().ConfigureAwait(true);
        await RecordInRegistryAsync().ConfigureAwait(true);
        await UnregisterResumeReminderAsync().ConfigureAwait(true);
        AnomalyClusteringTelemetry.JobsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", state.ToString().ToLowerInvariant()));
        AnomalyClusteringTelemetry.JobDuration.Record((DateTimeOffset.UtcNow - S.CreatedAt).TotalSeconds);
        if (error is not null)
        {
            _logger.LogWarning("Job {JobId} failed: {Error}", JobId, error);
        }
    }

    private async Task WriteStateAsync()
    {
        // Interleaved turns (progress, cancel) must not write concurrently: the storage's ETag check would refuse one.
        await _writeGate.WaitAsync().ConfigureAwait(true);
        try
        {
            S.UpdatedAt = DateTimeOffset.UtcNow;
            await _state.WriteStateAsync().ConfigureAwait(true);
            _lastCheckpoint = DateTimeOffset.UtcNow;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Tells the job registry this job's status at a state change, so that listings need not activate coordinators. The
    /// registry is an index, the job's own state the truth: a registry that cannot be reached costs a stale listing only.
    /// </summary>
    private async Task RecordInRegistryAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(0).Record(Status()).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Job {JobId}: the job registry could not record state {State}", JobId, S.State);
        }
    }

    private async Task UnregisterResumeReminderAsync()
    {
        var reminder = await this.GetReminder(ResumeReminder).ConfigureAwait(true);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder).ConfigureAwait(true);
        }
    }

    private void AddStageTime(PipelineStage stage, TimeSpan elapsed) =>
        S.StageSeconds[stage.ToString()] = S.StageSeconds.GetValueOrDefault(stage.ToString()) + elapsed.TotalSeconds;

    private JobStatus Status()
    {
        var specification = S.Specification;
        return new JobStatus
        {
            JobId = JobId,
            State = S.State,
            TotalImages = specification?.Images.Count ?? 0,
            TotalNormalImages = S.SelectedNormals.Length,
            EmbeddedImages = _embeddedCount,
            CacheHits = S.CacheHits,
            WeightedImages = _weightedCount,
            FailedImages = S.Failures.Count,
            Error = S.Error,
            CreatedAt = S.CreatedAt,
            UpdatedAt = S.UpdatedAt,
            ResultBlob = S.ResultBlob,
            ClusterCount = S.ClusterCount,
            Source = specification?.Source ?? "",
            Tenant = specification?.Tenant,
        };
    }
}
