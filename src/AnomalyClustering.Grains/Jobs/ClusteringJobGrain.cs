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
using Orleans.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The coordinator of one job (METHOD sections 1-5, distributed): its life (submit, status, cancel, naming) and the order
/// of its stages: <see cref="JobReferencePhase"/> fixes what images are weighed against, <see cref="JobShardPhase"/> has the
/// shard grains embed and weigh every image, <see cref="JobResultStage"/> clusters and writes the result. Reentrant, so
/// that status and cancel calls are answered while the job runs; its state (O(1) in the images) is persisted at every
/// stage, so that a coordinator reactivated elsewhere (after a silo failure; a reminder wakes it) goes on from there.
/// </summary>
[Reentrant]
[RequiredSiloRole(SiloRoles.Coordinator)]
[GrainType(JobCoordinatorState.GrainTypeName)]
internal sealed class ClusteringJobGrain : Grain, IClusteringJobGrain, IRemindable
{
    // Forget calls in flight at once when a job is deleted (one per shard; a million-image job has thousands of shards).
    private const int ShardsForgottenAtOnce = 64;

    private const string ResumeReminder = "resume";
    private static readonly TimeSpan ResumePeriod = TimeSpan.FromMinutes(1);

    // A run stopped by an outage waits this long before it goes on: the dependency is likely still away.
    private static readonly TimeSpan PauseAfterFault = TimeSpan.FromSeconds(5);

    // A finished job's state is written until it is stored: the outcome must not be lost to a brief Redis outage.
    private static readonly TimeSpan FinalWriteRetryDelay = TimeSpan.FromSeconds(5);
    private const int FinalWriteAttempts = 120;

    private readonly IPersistentState<JobCoordinatorState> _state;
    private readonly IBlobStore _store;
    private readonly CoordinatorOptions _options;
    private readonly ILogger<ClusteringJobGrain> _logger;
    private readonly CoordinatorCentreAssignment _centreAssignment;
    private readonly CheckpointedState<JobCoordinatorState> _checkpoints;
    private readonly SemaphoreSlim _namingGate = new(1, 1);
    private JobRunContext _context = null!;
    private CancellationTokenSource _cancellation = new();
    private Task? _run;
    // The deletion's start (Delete: the stop and the persisted mark) and its mark: when the deletion started, while it runs.
    // The mark is read from the stored state at activation and written into every state write (CheckpointedState's hook),
    // and kept here apart from the state object, which a retry or a read of the stored state replaces.
    private Task<DateTimeOffset?>? _deletionStart;
    private DateTimeOffset? _deletionMark;
    // The deletion's steps, run here after its start (or at an activation that finds the mark), and who waits for its end.
    private CoordinatorDeletionRun? _deletion;
    private Task? _deletionSteps;
    private TaskCompletionSource? _deletionEnded;
    // Deletions this activation ended: a finish that began before one must not write the deleted job back.
    private int _deletionsEnded;
    // Submits, cancels and retries in flight: a deletion's start waits for them to end (see StartDeletionAsync).
    private readonly InFlightOperations _changes = new();
    // Retention's sweep of a deleted job's late outcomes, while it runs: a submission waits for it (SweepLateOutcomes).
    private Task<long?>? _lateOutcomeSweep;
    private readonly CancellationTokenSource _deactivating = new();
    private bool _resumeReminderRegistered;

    public ClusteringJobGrain(
        [PersistentState(JobCoordinatorState.StateName, GrainStorageNames.Jobs)] IPersistentState<JobCoordinatorState> state,
        IBlobStore store,
        IOptions<CoordinatorOptions> options,
        ILogger<ClusteringJobGrain> logger,
        CoordinatorCentreAssignment centreAssignment)
    {
        _centreAssignment = centreAssignment;
        _state = state;
        _store = store;
        _options = options.Value;
        _logger = logger;
        _checkpoints = new CheckpointedState<JobCoordinatorState>(state, _options.CheckpointInterval, job =>
        {
            job.UpdatedAt = DateTimeOffset.UtcNow;
            job.DeletionStartedAt = _deletionMark;
        });
    }

    private string JobId => this.GetPrimaryKeyString();

    private JobCoordinatorState S => _state.State;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _context = new JobRunContext(JobId, () => _state.State, GrainFactory, _store, _options, _logger, CheckpointAsync, WriteStateAsync, _centreAssignment);
        _deletionMark = S.DeletionStartedAt;
        if (!_state.RecordExists && S.State == JobState.Unknown)
        {
            await RestoreFromJobRecordAsync(cancellationToken).ConfigureAwait(true);
        }
        else if (_deletionMark is { } deletion)
        {
            // A deletion that an earlier activation did not finish (its silo ended): the job stays stopped, the deletion goes on.
            _logger.LogInformation("Job {JobId} is being deleted (since {DeletionStartedAt:u}); the deletion goes on", JobId, deletion);
            // Its start is done (the mark is stored): a Delete joins the steps instead of writing the state again beside them.
            _deletionStart = Task.FromResult<DateTimeOffset?>(deletion);
            StartDeletionSteps(deletion);
        }
        else if (S.State.IsActive() && S.Specification?.Manifest is null)
        {
            // A job persisted before manifests existed carries its images in a form this version does not read.
            S.State = JobState.Failed;
            S.Error = "the job was submitted to an earlier version of the cluster and cannot be resumed; submit it again.";
        }
        else if (S.State.IsActive())
        {
            _logger.LogInformation("Job {JobId} resumes in state {State}", JobId, S.State);
            StartRun();
        }
    }

    /// <summary>
    /// A coordinator with no stored state (never submitted, deleted, or its state lost with Redis's data) looks for the job's
    /// record (<see cref="JobRecordStore"/>). A job without a result whose record is unmarked is started again from its
    /// manifest as <see cref="Retry"/> does, keeping its id, tenant and submission time; a cancelled or failed one is shown
    /// so again. A completed job (its result exists) stays unknown here: the API answers for it from the result.
    /// </summary>
    private async Task RestoreFromJobRecordAsync(CancellationToken cancellationToken)
    {
        JobRecordStore.JobRecord? record;
        try
        {
            record = await JobRecordStore.ReadAsync(_store, JobId, cancellationToken).ConfigureAwait(true);
            if (record is null || await _store.ExistsAsync(JobBlobNames.Result(JobId), cancellationToken).ConfigureAwait(true))
            {
                return;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store away: this activation answers Unknown for now; the next one (after idle collection) looks again.
            _logger.LogWarning(e, "Job {JobId}: its record could not be read; the job is looked for again at its next activation", JobId);
            DeactivateOnIdle();
            return;
        }
        if (record.FinishedState is { } finished)
        {
            _state.State = new JobCoordinatorState
            {
                Specification = record.Specification,
                State = finished,
                Error = record.Error,
                CreatedAt = record.CreatedAt,
                UpdatedAt = DateTimeOffset.UtcNow,
                CacheFeatures = record.CacheFeatures,
                Note = StateLostNote + $"; it had been {finished.ToString().ToLowerInvariant()}, so it was not resumed.",
            };
            await RecordInRegistryAsync().ConfigureAwait(true);
            _logger.LogWarning("Job {JobId}: its state was lost; its record says {State}", JobId, finished);
            return;
        }
        _logger.LogWarning("Job {JobId}: its state was lost (the state store restarted empty); it is resumed from its record", JobId);
        try
        {
            await StartAgainAsync(record.Specification, record.CreatedAt, record.CacheFeatures, StateLostNote + "; it was resumed from its manifest.")
                .ConfigureAwait(true);
        }
        catch (Exception e) when (BoundedFanOut.IsTransient(e))
        {
            // Its state not stored yet (Redis still away): the next activation starts it again from the record.
            _logger.LogWarning(e, "Job {JobId}: could not be resumed yet; it is tried again at its next activation", JobId);
            _state.State = new JobCoordinatorState();
            DeactivateOnIdle();
        }
    }

    private const string StateLostNote = "the job's state was lost by the state store (Redis restarted empty)";

    /// <inheritdoc />
    public Task<JobStatus> Submit(JobSpecification specification) => _changes.RunAsync(() => SubmitChangeAsync(specification));

    /// <inheritdoc />
    public Task<JobStatus> Cancel() => _changes.RunAsync(CancelChangeAsync);

    /// <inheritdoc />
    public Task<JobStatus> Retry() => _changes.RunAsync(RetryChangeAsync);

    private async Task<JobStatus> SubmitChangeAsync(JobSpecification specification)
    {
        ArgumentNullException.ThrowIfNull(specification);
        JobBlobNames.ValidateJobId(JobId);
        // A sweep of the deleted job's late outcomes ends first: this job's outcomes must not be written under it.
        if (_lateOutcomeSweep is { IsCompleted: false } sweep)
        {
            await ((Task)sweep).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        }
        ThrowIfBeingDeleted();
        if (S.State != JobState.Unknown)
        {
            return Status();
        }
        JobSubmissionCheck.Validate(specification, _options.ClusteringMemoryBudgetBytes);
        var now = DateTimeOffset.UtcNow;
        var manifest = specification.Manifest;
        _state.State = new JobCoordinatorState
        {
            Specification = specification,
            State = JobState.Queued,
            CreatedAt = now,
            UpdatedAt = now,
            CacheFeatures = specification.Options.CacheFeatures ?? manifest.ImageCount <= _options.FeatureCacheUpToImages,
        };
        try
        {
            // The record first: a job whose state is stored can always be rebuilt from the store.
            await WriteJobRecordAsync().ConfigureAwait(true);
            await WriteStateAsync().ConfigureAwait(true);
        }
        catch
        {
            // Not accepted: the submitter deletes the manifest, which the record would name.
            _state.State = new JobCoordinatorState();
            await JobRecordStore.DeleteAsync(_store, JobId, CancellationToken.None).ConfigureAwait(true);
            throw;
        }
        await RecordInRegistryAsync().ConfigureAwait(true);
        await EnsureResumeReminderAsync().ConfigureAwait(true);
        AnomalyClusteringTelemetry.ImagesReceived.Add(manifest.ImageCount + manifest.NormalImageCount);
        _logger.LogInformation("Job {JobId} accepted: {Images} images in {Shards} shards, {Normals} normal images, mode {Mode}",
            JobId, manifest.ImageCount, manifest.ImageChunkCount, manifest.NormalImageCount, specification.Options.Mode);
        StartRun();
        return Status();
    }

    /// <inheritdoc />
    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    /// <inheritdoc />
    public async Task<IReadOnlyList<ImageFailure>> GetFailures() =>
        S.Specification is null ? [] : await JobResultStage.FailuresAsync(_context).ConfigureAwait(true);

    private async Task<JobStatus> CancelChangeAsync()
    {
        // A job being deleted is stopped by its deletion.
        if (!S.State.IsActive() || _deletionMark is not null)
        {
            return Status();
        }
        await _cancellation.CancelAsync().ConfigureAwait(true);
        await JobShardPhase.StopAsync(_context).ConfigureAwait(true);
        await FinishAsync(JobState.Cancelled, error: null).ConfigureAwait(true);
        return Status();
    }

    private async Task<JobStatus> RetryChangeAsync()
    {
        ThrowIfBeingDeleted();
        if (S.State is not (JobState.Failed or JobState.Cancelled) || S.Specification is not { } specification)
        {
            return Status();
        }
        // The previous run must be over before its state is replaced: a cancelled run may still be settling its image calls.
        if (_run is { } previous)
        {
            await previous.ConfigureAwait(true);
        }
        ThrowIfBeingDeleted(); // a deletion interleaved while this one waited
        if (S.State is not (JobState.Failed or JobState.Cancelled))
        {
            return Status(); // another Retry, interleaved while this one waited, has started it
        }
        await StartAgainAsync(specification, S.CreatedAt, S.CacheFeatures, note: null).ConfigureAwait(true);
        _logger.LogInformation("Job {JobId} retried: started again from its manifest", JobId);
        return Status();
    }

    /// <summary>
    /// Starts the job again from its manifest with none of its previous progress (a retry, or a job whose state was lost):
    /// the feature cache keeps the patch bags already computed, so the backbone does not run again for them.
    /// </summary>
    private async Task StartAgainAsync(JobSpecification specification, DateTimeOffset createdAt, bool cacheFeatures, string? note)
    {
        // The shards' bitmaps and failures are the previous run's: cleared, so that every image is processed again.
        await ForgetShardsAsync(specification.Manifest).ConfigureAwait(true);
        // A deletion that began while the shards were forgotten wins: the state is not replaced by a running one.
        ThrowIfBeingDeleted();
        _state.State = new JobCoordinatorState
        {
            Specification = specification,
            State = JobState.Queued,
            CreatedAt = createdAt,
            UpdatedAt = DateTimeOffset.UtcNow,
            CacheFeatures = cacheFeatures,
            Note = note,
        };
        _context.ReferencesEmbedded = 0;
        _context.ReferencesToEmbed = 0;
        // A cancelled or failed job's record is marked: it runs again, so the mark goes.
        await WriteJobRecordAsync().ConfigureAwait(true);
        await WriteStateAsync().ConfigureAwait(true);
        // Again after each wait: a deletion that began meanwhile must not find the job listed or its reminder back.
        ThrowIfBeingDeleted();
        // The registry keeps a finished job's last status for good: the job is recorded afresh.
        await GrainFactory.GetGrain<IJobRegistryGrain>(0).Remove(JobId).ConfigureAwait(true);
        await RecordInRegistryAsync().ConfigureAwait(true);
        ThrowIfBeingDeleted();
        await EnsureResumeReminderAsync().ConfigureAwait(true);
        StartRun();
    }

    /// <summary>
    /// Writes the job's record as the state says: unmarked while it runs, marked once cancelled or failed. A job being deleted writes none: its deletion deletes the record, which a late write (a retry or a cancel that raced
    /// the deletion's start) would bring back for a later activation to restore.
    /// </summary>
    private Task WriteJobRecordAsync() => _deletionMark is not null ? Task.CompletedTask : JobRecordStore.WriteAsync(_store, JobId, new JobRecordStore.JobRecord(
        S.Specification!, S.CreatedAt, S.CacheFeatures, S.State.IsFinished() ? S.State : null, S.Error), CancellationToken.None);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<int, string>> NameCluster(int cluster, string? name)
    {
        ThrowIfBeingDeleted();
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
            // The result summary is where names live; the grain keeps no second copy.
            var summary = await JobResultFiles.ReadSummaryAsync(_store, S.ResultBlob, CancellationToken.None).ConfigureAwait(true);
            ClusterNames names;
            try
            {
                names = summary.Names.With(cluster, name);
            }
            catch (InvalidClusteringInputException e)
            {
                throw new InvalidJobException(e.Message, "name");
            }
            await JobResultFiles.WriteNamesAsync(_store, S.ResultBlob, names, CancellationToken.None).ConfigureAwait(true);
            return names.ByCluster;
        }
        finally
        {
            _namingGate.Release();
        }
    }

    /// <inheritdoc />
    public Task<JobManifestReference?> GetManifest() => Task.FromResult(S.Specification?.Manifest);

    /// <inheritdoc />
    public Task<JobScoringBasis?> GetScoringBasis() => Task.FromResult(S.Specification is { } specification && S.ReferencesFixed
        ? new JobScoringBasis(
            specification.Options,
            specification.BackboneDescriptionJson,
            [.. S.ReferenceImages],
            [.. S.ReferenceFeatures],
            S.ReferencesPerImage,
            [.. S.NormalFeatures.Where(blob => blob is not null).Select(blob => blob!)])
        : null);

    /// <inheritdoc />
    public async Task<DateTimeOffset?> Delete(DateTimeOffset? onlyIfFinishedBefore = null)
    {
        if (onlyIfFinishedBefore is { } before && _deletionMark is null && !await IsTheJobThatExpiredAsync(before).ConfigureAwait(true))
        {
            return null;
        }
        // One deletion at a time: a second caller (a double DELETE, two coordinators' retention passes) joins the first,
        // whose steps run here once, instead of deleting blobs beside it. A start that failed is tried again.
        if (_deletionStart is not { IsFaulted: false, IsCanceled: false } start)
        {
            _deletionStart = start = StartDeletionAsync();
        }
        return await start.ConfigureAwait(true);
    }

    /// <summary>
    /// Retention's check that the job here is the one that expired before <paramref name="before"/>: retention's list was read
    /// before, and another pass may have deleted that job and a new one taken the id since. A finished job created before
    /// then is the one (its creation, not its last change: a coordinator rebuilt from the job's record sets the time of the
    /// last change to its activation, while a job that took the id was created after the expired one finished). A coordinator
    /// with no state is the expired job only if a result answers for it (a completed job whose state was lost); otherwise it
    /// may be a new job whose images are still being uploaded, which has no state until it is submitted.
    /// </summary>
    private async Task<bool> IsTheJobThatExpiredAsync(DateTimeOffset before) => S.State == JobState.Unknown
        ? await _store.ExistsAsync(JobBlobNames.Result(JobId)).ConfigureAwait(true)
        : S.State.IsFinished() && S.CreatedAt < before;

    private async Task<DateTimeOffset?> StartDeletionAsync()
    {
        // Marked before any await: a submission or retry interleaved with the stop below is refused (reentrant grain). The
        // field survives a replacement of the state object (a retry's, or a stored state read back) and every write stores it.
        var started = _deletionMark ??= DateTimeOffset.UtcNow;
        // Stop first and wait for the run to end: its in-flight image calls would otherwise write outcome blobs (or the
        // result) after the deletion has deleted the job's blobs. The run ends on cancellation once those calls return.
        await _cancellation.CancelAsync().ConfigureAwait(true);
        if (_run is { } run)
        {
            await run.ConfigureAwait(true);
        }
        // And for the changes in flight (a submit, cancel or retry that began before the mark; each sees the mark at its next
        // step and stops): a write of theirs landing after the steps below would bring the deleted job back.
        await _changes.SettledAsync().ConfigureAwait(true);
        // Persisted before anything is deleted: a coordinator reactivated later neither resumes the job nor takes the id
        // for a new one, and goes on with the deletion. (If this write fails the caller's error says to ask again.)
        await WriteStateAsync().ConfigureAwait(true);
        _logger.LogInformation("Job {JobId}: deletion started", JobId);
        StartDeletionSteps(started);
        return started;
    }

    /// <summary>Starts the deletion's steps unless they run.</summary>
    private void StartDeletionSteps(DateTimeOffset started)
    {
        if (_deletionSteps is { IsCompleted: false })
        {
            return;
        }
        _deletion = new CoordinatorDeletionRun(JobId, _logger);
        _deletionSteps = RunDeletionStepsAsync(_deletion, started);
    }

    private async Task RunDeletionStepsAsync(CoordinatorDeletionRun deletion, DateTimeOffset started)
    {
        // Kept active while it runs: a deletion gets no calls, which idle collection would read as idle.
        using var keepAlive = this.RegisterGrainTimer(() =>
        {
            DelayDeactivation(TimeSpan.FromMinutes(5));
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMinutes(1)) { Interleave = true, KeepAlive = true });
        try
        {
            await deletion.RunAsync(token => DeleteEverythingAsync(deletion, started, token), _deactivating.Token).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (_deactivating.IsCancellationRequested)
        {
            _logger.LogInformation("Job {JobId}: deletion cut short by the coordinator's deactivation; its next activation goes on with it", JobId);
            return;
        }
        // A deletion asked for again after this one freed the id, while these steps were still ending: its steps run next.
        if (_deletionMark is { } next && next != started && _deletionStart is { IsCompletedSuccessfully: true })
        {
            _deletion = new CoordinatorDeletionRun(JobId, _logger);
            _deletionSteps = RunDeletionStepsAsync(_deletion, next);
        }
    }

    /// <summary>
    /// The deletion's steps, each idempotent: the shards, the record, the blobs, the registry entry, and last the state,
    /// whose clearing frees the id.
    /// </summary>
    private async Task DeleteEverythingAsync(CoordinatorDeletionRun deletion, DateTimeOffset started, CancellationToken cancellationToken)
    {
        // An attempt after the state was cleared (the id may name a new job by now) deletes nothing.
        if (_deletionMark != started)
        {
            return;
        }
        // The reminder wakes a coordinator whose silo ended mid-deletion, and its activation finishes the deletion. Registered
        // by every attempt (a cancel that finished beside the deletion's start may have unregistered it).
        _resumeReminderRegistered = false;
        await EnsureResumeReminderAsync().ConfigureAwait(true);
        if (S.Specification is { } specification)
        {
            await ForgetShardsAsync(specification.Manifest).ConfigureAwait(true);
        }
        // A coordinator whose state was lost must not find the record and resume the job.
        await JobRecordStore.DeleteAsync(_store, JobId, cancellationToken).ConfigureAwait(true);
        await JobBlobDeletion.DeleteAsync(_store, JobId, deletion.CountDeleted, cancellationToken).ConfigureAwait(true);
        // Marked, not only forgotten: an image call that outlived the stop grace may still write its outcome, so retention
        // sweeps the job's outcomes once more later (JobRetentionService.SweepDeletedAsync).
        await GrainFactory.GetGrain<IJobRegistryGrain>(0).MarkDeleted(JobId, started).ConfigureAwait(true);
        await _checkpoints.ClearAsync().ConfigureAwait(true);
        // Not every storage resets the state object on clear; this activation answers as a fresh one would until it goes.
        _state.State = new JobCoordinatorState();
        // From here the id is free for a new job.
        _deletionMark = null;
        _deletionStart = null;
        _deletionsEnded++;
        _deletionEnded?.TrySetResult();
        _deletionEnded = null;
        try
        {
            await UnregisterResumeReminderAsync().ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Harmless (and must not rerun the deletion under a job that may have taken the id): the reminder's next tick
            // finds no job and unregisters it then.
            _logger.LogWarning(e, "Job {JobId}: the resume reminder could not be unregistered yet", JobId);
        }
        _logger.LogInformation("Job {JobId} deleted: {Blobs} blobs, and its state cleared", JobId, deletion.DeletedBlobs);
        // A fresh activation starts from the cleared state (the progress counts in fields go with this one).
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public Task<long?> SweepLateOutcomes()
    {
        if (_lateOutcomeSweep is not { IsCompleted: false })
        {
            _lateOutcomeSweep = SweepLateOutcomesAsync();
        }
        return _lateOutcomeSweep;
    }

    /// <summary>
    /// The sweep: nothing when the id holds a job. Its state says so (a running, finished or deleting job; a submission sets
    /// it before its first await), and so do its record and result, which stand for a job whose state was lost. The
    /// registry's mark alone cannot: a new job's report that failed leaves the deleted job's mark in place.
    /// </summary>
    private async Task<long?> SweepLateOutcomesAsync()
    {
        if (S.State != JobState.Unknown || _deletionMark is not null
            || await JobRecordStore.ReadAsync(_store, JobId, CancellationToken.None).ConfigureAwait(true) is not null
            || await _store.ExistsAsync(JobBlobNames.Result(JobId)).ConfigureAwait(true))
        {
            return null;
        }
        // Submissions wait for this (SubmitChangeAsync), so no image call of a new job writes beside the deletes.
        // No DeactivateOnIdle here: a submission waiting for the sweep would have its new job's activation end with it.
        return await _store.DeletePrefixAsync(JobBlobNames.OutcomesPrefix(JobId), CancellationToken.None).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<bool> WaitForDeletion(DateTimeOffset deletionStartedAt, TimeSpan wait)
    {
        if (_deletionMark != deletionStartedAt)
        {
            return true;
        }
        var ended = (_deletionEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        var limit = wait < TimeSpan.Zero ? TimeSpan.Zero : wait < IClusteringJobGrain.MaxDeletionWait ? wait : IClusteringJobGrain.MaxDeletionWait;
        await Task.WhenAny(ended, Task.Delay(limit)).ConfigureAwait(true);
        return _deletionMark != deletionStartedAt;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A deletion still running stops at its next await; the next activation (the reminder's, or any call's) goes on with it.
        await _deactivating.CancelAsync().ConfigureAwait(true);
        if (_deletionSteps is { } steps)
        {
            await steps.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Refuses a change of a job whose deletion has started (<see cref="JobBeingDeletedException"/>).</summary>
    private void ThrowIfBeingDeleted()
    {
        if (_deletionMark is { } started)
        {
            throw new JobBeingDeletedException(JobId, started);
        }
    }

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation already resumed an unfinished job or deletion; the reminder only exists to cause that activation after
        // a failure (and starts a deletion's steps that are not running, which activation does too).
        if (_deletionMark is { } deletion)
        {
            // Not before the deletion's start is done: until then the job may still be stopping, and its mark not stored.
            if (_deletionStart is null or { IsCompletedSuccessfully: true })
            {
                StartDeletionSteps(deletion);
            }
            return Task.CompletedTask;
        }
        if (!S.State.IsActive())
        {
            return UnregisterResumeReminderAsync();
        }
        StartRun();
        return Task.CompletedTask;
    }

    /// <summary>
    /// The shards run on their own: each is stopped and its state cleared, many at a time, so that the running ones'
    /// waits for their image calls (<see cref="ImageCallWatchdog.StopGrace"/>) overlap instead of adding up.
    /// </summary>
    private Task ForgetShardsAsync(JobManifestReference manifest) =>
        BoundedFanOut.ForEachAsync(Enumerable.Range(0, manifest.ImageChunkCount), ShardsForgottenAtOnce,
            shard => GrainFactory.GetGrain<IJobShardGrain>(JobShardKey.For(JobId, shard)).Forget(), () => Task.CompletedTask, CancellationToken.None);

    private void StartRun()
    {
        // A job being deleted never runs again (a retry or a resume that raced the deletion's start).
        if (_run is { IsCompleted: false } || _deletionMark is not null)
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
        span?.SetTag("anomaly_clustering.images", S.Specification?.Manifest.ImageCount);
        AnomalyClusteringTelemetry.JobsActive.Add(1);
        try
        {
            while (!await RunOnceAsync(cancellationToken).ConfigureAwait(true))
            {
                await Task.Delay(PauseAfterFault, cancellationToken).ConfigureAwait(true);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("Job {JobId} stopped: cancelled", JobId);
        }
        finally
        {
            AnomalyClusteringTelemetry.JobsActive.Add(-1);
            span?.SetTag("anomaly_clustering.state", S.State.ToString());
        }
    }

    /// <summary>
    /// Runs the job from its state; false when a fault of the cluster or a dependency (a worker lost, Redis or the blob store
    /// away for longer than the calls' retries) stopped it. That is never the job's fault: it pauses and goes on from
    /// where its state says, however long the outage lasts. Only the job's own errors fail it.
    /// </summary>
    private async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
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
        catch (Exception e) when (S.State.IsActive() && BoundedFanOut.IsTransient(e))
        {
            _logger.LogWarning(e, "Job {JobId} paused in state {State} by a fault of the cluster or a dependency; it goes on in {Delay}",
                JobId, S.State, PauseAfterFault);
            if (e is InconsistentStateException)
            {
                // A write whose answer was lost (Redis restarted) may have landed: the stored state is the truth to go on from.
                await ReadStoredStateAsync().ConfigureAwait(true);
            }
            return false;
        }
        catch (Exception e)
        {
            // The job's error is served to the caller and written into nothing else; the exception text stays in the log.
            var error = JobIncidents.Record(_logger, $"job {JobId}", e, "the job stopped on an unexpected error");
            await FinishAsync(JobState.Failed, error).ConfigureAwait(true);
        }
        return true;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = JobOptionsMapping.ToPipelineOptions(S.Specification!.Options, _options.ClusteringMemoryBudgetBytes);
        if (!S.ReferencesFixed)
        {
            await SetStateAsync(JobState.Embedding).ConfigureAwait(true);
            var references = Stopwatch.StartNew();
            await JobReferencePhase.RunAsync(_context, options, cancellationToken).ConfigureAwait(true);
            _context.AddStageTime(PipelineStage.EmbedImages, references.Elapsed);
        }
        if (S.State is not JobState.Clustering)
        {
            await SetStateAsync(JobState.Weighting).ConfigureAwait(true);
            var images = Stopwatch.StartNew();
            await JobShardPhase.RunAsync(_context, cancellationToken).ConfigureAwait(true);
            _context.AddStageTime(PipelineStage.WeightPatches, images.Elapsed);
        }
        await SetStateAsync(JobState.Clustering).ConfigureAwait(true);
        var data = await JobResultStage.RunAsync(_context, options, cancellationToken).ConfigureAwait(true);
        var result = data.Result;
        string resultBlob;
        try
        {
            resultBlob = await JobResultStage.WriteAsync(_context, data, cancellationToken).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || !S.State.IsActive())
        {
            await DeleteResultFilesAsync().ConfigureAwait(true);
            throw;
        }
        // A cancel that landed while the files were written (writes already in flight land anyway) leaves no result.
        if (!S.State.IsActive())
        {
            await DeleteResultFilesAsync().ConfigureAwait(true);
            throw new OperationCanceledException($"job {JobId} is {S.State}");
        }
        S.ResultBlob = resultBlob;
        S.ClusterCount = result.ClusterCount;
        S.Warnings = [.. result.Warnings.Select(warning => new JobWarning(warning.Code, warning.Message))];
        await FinishAsync(JobState.Completed, error: null).ConfigureAwait(true);
        _logger.LogInformation("Job {JobId} completed: {Images} images in {Clusters} clusters, {Failures} failed",
            JobId, result.Images.Count, result.ClusterCount, result.Errors.Count);
    }

    /// <summary>Deletes what a result write that was cut short by a cancel left (a cancelled job has no result).</summary>
    private Task DeleteResultFilesAsync() => _store.DeletePrefixAsync(JobResultFiles.Folder(JobId), CancellationToken.None);

    private async Task CheckpointAsync()
    {
        // Keeps the grain alive while it works: a running job has no incoming calls, which idle collection would read as idle.
        DelayDeactivation(TimeSpan.FromMinutes(30));
        await _checkpoints.CheckpointAsync().ConfigureAwait(true);
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
        await EnsureResumeReminderAsync().ConfigureAwait(true);
    }

    private async Task FinishAsync(JobState state, string? error)
    {
        // A job being deleted is not finished: its record and registry entry are being removed, not settled.
        if (!S.State.IsActive() || _deletionMark is not null)
        {
            return;
        }
        S.State = state;
        S.Error = error;
        // A deletion that starts while this finish awaits takes over: the finish writes nothing more after it.
        var deletionsEnded = _deletionsEnded;
        bool Deleting() => _deletionMark is not null || _deletionsEnded != deletionsEnded;
        await WriteFinalStateAsync(Deleting).ConfigureAwait(true);
        if (Deleting())
        {
            return;
        }
        await RecordInRegistryAsync().ConfigureAwait(true);
        await SettleJobRecordAsync().ConfigureAwait(true);
        if (Deleting())
        {
            return;
        }
        try
        {
            await UnregisterResumeReminderAsync().ConfigureAwait(true);
        }
        catch (Exception e) when (BoundedFanOut.IsTransient(e))
        {
            // Harmless: the reminder's next tick finds the job finished and unregisters it then.
            _logger.LogWarning(e, "Job {JobId}: the resume reminder could not be unregistered yet", JobId);
        }
        AnomalyClusteringTelemetry.JobsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", state.ToString().ToLowerInvariant()));
        AnomalyClusteringTelemetry.JobDuration.Record((DateTimeOffset.UtcNow - S.CreatedAt).TotalSeconds);
        if (error is not null)
        {
            _logger.LogWarning("Job {JobId} failed: {Error}", JobId, error);
        }
    }

    private Task WriteStateAsync() => _checkpoints.WriteAsync();

    /// <summary>
    /// A completed job's record is deleted (its result answers for it now); a cancelled or failed one's is marked, so that a
    /// coordinator that lost the state does not run it again. Tried until stored, like the final state.
    /// </summary>
    private async Task SettleJobRecordAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (S.State == JobState.Completed)
                {
                    await JobRecordStore.DeleteAsync(_store, JobId, CancellationToken.None).ConfigureAwait(true);
                }
                else if (S.Specification is not null)
                {
                    await WriteJobRecordAsync().ConfigureAwait(true);
                }
                return;
            }
            catch (Exception e) when (attempt < FinalWriteAttempts && BoundedFanOut.IsTransient(e))
            {
                _logger.LogWarning(e, "Job {JobId}: its record could not be settled as {State} yet (attempt {Attempt}); trying again", JobId, S.State, attempt);
                await Task.Delay(FinalWriteRetryDelay).ConfigureAwait(true);
            }
        }
    }

    /// <summary>Reads the stored state (and its ETag) back; while Redis is still away the next attempt reads it.</summary>
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
            _logger.LogWarning(e, "Job {JobId}: its stored state could not be read yet", JobId);
        }
    }

    private async Task WriteFinalStateAsync(Func<bool> superseded)
    {
        for (var attempt = 1; !superseded(); attempt++)
        {
            try
            {
                await WriteStateAsync().ConfigureAwait(true);
                return;
            }
            catch (Exception e) when (attempt < FinalWriteAttempts && BoundedFanOut.IsTransient(e))
            {
                _logger.LogWarning(e, "Job {JobId}: state {State} could not be stored yet (attempt {Attempt}); trying again", JobId, S.State, attempt);
                if (e is InconsistentStateException && !superseded())
                {
                    // The stored state moved on (a lost answer that had landed): take its ETag, keep this outcome.
                    var outcome = S;
                    await ReadStoredStateAsync().ConfigureAwait(true);
                    if (!superseded())
                    {
                        _state.State = outcome;
                    }
                }
                await Task.Delay(FinalWriteRetryDelay).ConfigureAwait(true);
            }
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

    /// <summary>
    /// Registers the resume reminder, which only re-activates the coordinator after its silo failed. A reminder table
    /// that is slow or away (Redis under load answered a registration with a cancellation in a clean CI run) does not fail
    /// the submission, whose state is already written: the job runs on, and the registration is tried again at its
    /// next stage.
    /// </summary>
    private async Task EnsureResumeReminderAsync()
    {
        if (_resumeReminderRegistered)
        {
            return;
        }
        try
        {
            await this.RegisterOrUpdateReminder(ResumeReminder, ResumePeriod, ResumePeriod).ConfigureAwait(true);
            _resumeReminderRegistered = true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "Job {JobId}: the resume reminder could not be registered now; it is tried again at the next stage", JobId);
        }
    }

    private async Task UnregisterResumeReminderAsync()
    {
        _resumeReminderRegistered = false;
        var reminder = await this.GetReminder(ResumeReminder).ConfigureAwait(true);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder).ConfigureAwait(true);
        }
    }

    private JobStatus Status()
    {
        var specification = S.Specification;
        var active = _context.ActiveShards.Values;
        var processed = S.ProcessedInDoneShards + active.Sum(progress => progress.Processed);
        var failed = S.FailedInDoneShards + active.Sum(progress => progress.Failed) + S.Failures.Count;
        return new JobStatus
        {
            JobId = JobId,
            State = S.State,
            TotalImages = specification?.Manifest.ImageCount ?? 0,
            TotalNormalImages = S.SelectedNormals.Length,
            // While the references are fixed, their progress; then the normal bank's and every processed image's.
            EmbeddedImages = S.ReferencesFixed ? S.NormalEmbedded.Count(done => done) + processed : _context.ReferencesEmbedded,
            ReferenceImagesToEmbed = S.ReferencesFixed || S.State != JobState.Embedding ? 0 : _context.ReferencesToEmbed,
            CacheHits = S.CacheHits + active.Sum(progress => progress.CacheHits),
            WeightedImages = S.WeightedImages(),
            FailedImages = failed,
            Error = S.Error,
            CreatedAt = S.CreatedAt,
            UpdatedAt = S.UpdatedAt,
            ResultBlob = S.ResultBlob,
            ClusterCount = S.ClusterCount,
            Source = specification?.Source ?? "",
            Tenant = specification?.Tenant,
            Note = S.Note,
            DeletionStartedAt = _deletionMark,
            DeletedBlobs = _deletionMark is null ? 0 : _deletion?.DeletedBlobs ?? 0,
            DeletionError = _deletionMark is null ? null : _deletion?.LastError,
            Warnings = S.Warnings,
        };
    }
}
