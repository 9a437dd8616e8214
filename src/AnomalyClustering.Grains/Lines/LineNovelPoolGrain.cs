using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// The novel pool of one line (<see cref="LineNovelPool"/>), one activation per line: additions and naming take turns, so
/// the pool's bound holds. A recluster runs beside them, one at a time: it reads the pool as it is when it starts and
/// clusters it on the thread pool while additions go on, then stores its proposals; until then readers see the last
/// completed ones. When the line's <see cref="NovelPoolSettings.ReclusterEvery"/> is M &gt; 0, the addition that brings
/// the images pooled since the last recluster to M starts one after its call (a recluster of a full pool outlasts a grain
/// call, and the addition is on the line's decision path); one due while another runs starts after it. A proposal named
/// while a recluster runs makes that recluster start again, since its members have left the pool. A recluster asked for
/// (<see cref="ILineNovelPoolGrain.RequestRecluster"/>) is answered at once and runs the same way, before the automatic ones
/// due; its result is the stored proposals with its request id, its failure a <see cref="NovelReclusterFailure"/> with its
/// request id. Failures are kept in memory (<see cref="NovelReclusterStatus.Failures"/>) as well as stored among the
/// pool's failures: with the store away, the record cannot be written, yet a client polling for its request must hear that
/// it failed; the write is tried again at the grain's next call or its retry timer until the store takes it.
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineNovelPoolGrain(IBlobStore blobs, LineCatalogStore catalogs, TimeProvider clock, ILogger<LineNovelPoolGrain> logger)
    : Grain, ILineNovelPoolGrain
{
    // Naming and storing a recluster's proposals both rewrite novel/proposals.json, and a recluster's store step
    // interleaves with calls: they take this in turn.
    private readonly SemaphoreSlim _proposalsTurn = new(1, 1);

    // The reclusters running now and due behind it (requested first, then automatic); it never faults (automatic failures
    // are logged, every failure is kept and stored among the pool's failures, a requested one's also goes to a caller that waits).
    private Task _reclusters = Task.CompletedTask;

    // How often failures the store did not take are tried again while no call comes.
    private static readonly TimeSpan FailureRetryPeriod = TimeSpan.FromSeconds(30);

    // The failures of this activation's reclusters, newest first (LineNovelPool.NewestFailures bounds them), and those of
    // them not stored yet: a requested recluster's failure is its answer, and must not vanish with a store that is away.
    private IReadOnlyList<NovelReclusterFailure> _failures = [];
    private readonly List<NovelReclusterFailure> _unstoredFailures = [];
    private Task _storingFailures = Task.CompletedTask;
    private IGrainTimer? _failureRetry;

    // An automatic recluster is due once the running one ends.
    private bool _automaticDue;

    // Requested reclusters not started yet, in order: they run before the automatic ones due, so a steady intake cannot keep
    // a person's request waiting behind recluster after recluster.
    private readonly List<Requested> _waiting = [];

    // Proposals named by this activation; a recluster that read the pool before one ended holds its members.
    private int _namings;

    private NovelReclusterInProgress? _running;

    // A fresh view per call: its index is one listing of the pool, so a line deleted and made again under the same name
    // (or a pool changed by the API's settings) is never seen through a stale index.
    private LineNovelPool Pool() => new(blobs, catalogs, this.GetPrimaryKeyString());

    /// <inheritdoc />
    public async Task Add(IReadOnlyList<NovelPoolImage> images)
    {
        RetryUnstoredFailures();
        // Decided just before the line was deleted: pooled now, they would stay under the deleted line's folder (its
        // deletion's LineDeleted ran before this turn), and a line made again under the name would find them in its pool.
        if (!await LineExistsAsync().ConfigureAwait(true))
        {
            LogAddToDeletedLine(logger, this.GetPrimaryKeyString(), images.Count);
            return;
        }
        var pool = Pool();
        var settings = await pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
        if (await pool.AddAsync(images, settings, CancellationToken.None).ConfigureAwait(true) == 0 || settings.ReclusterEvery == 0
            || await pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) < settings.ReclusterEvery)
        {
            return;
        }
        // Not awaited: the images are pooled, and the caller's decisions wait for nothing more.
        _automaticDue = true;
        StartReclusters();
    }

    /// <inheritdoc />
    public async Task<NovelProposalSet> Recluster(int? clusterCount) =>
        await (await RequestAsync(clusterCount).ConfigureAwait(true)).Result.Task.ConfigureAwait(true);

    /// <inheritdoc />
    public async Task<NovelReclusterRequest> RequestRecluster(int? clusterCount) => (await RequestAsync(clusterCount).ConfigureAwait(true)).Request;

    /// <inheritdoc />
    public async Task<int> Name(string proposalId, string name)
    {
        RetryUnstoredFailures();
        await _proposalsTurn.WaitAsync().ConfigureAwait(true);
        var changed = true;
        try
        {
            return (await Pool().NameAsync(proposalId, name, CancellationToken.None).ConfigureAwait(true)).Version;
        }
        catch (NovelPoolException)
        {
            // Refused before anything was written: a running recluster's result still holds.
            changed = false;
            throw;
        }
        finally
        {
            if (changed)
            {
                _namings++;
            }
            _proposalsTurn.Release();
        }
    }

    /// <inheritdoc />
    public Task<NovelReclusterStatus> ReclusterStatus()
    {
        // A client polls this while it waits: once the store is back, its poll gets the record written.
        RetryUnstoredFailures();
        return Task.FromResult(new NovelReclusterStatus(_running, [.. _waiting.Select(waiting => waiting.Request)], _failures));
    }

    /// <inheritdoc />
    public async Task LineDeleted()
    {
        await _proposalsTurn.WaitAsync().ConfigureAwait(true);
        try
        {
            // The running recluster read the deleted line's pool: its result is stale even for a line made again meanwhile.
            _namings++;
            // A line made again under the name starts without the deleted line's failures.
            _failures = [];
            _unstoredFailures.Clear();
            _failureRetry?.Dispose();
            _failureRetry = null;
            if (!await LineExistsAsync().ConfigureAwait(true))
            {
                await blobs.DeletePrefixAsync(Pool().NovelPrefix, CancellationToken.None).ConfigureAwait(true);
            }
        }
        finally
        {
            _proposalsTurn.Release();
        }
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // An embedded silo stops right after its last decision: the recluster that decision started is let finish.
        await _reclusters.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        // A last try for failures the store did not take; what still fails is lost with the activation (and logged).
        RetryUnstoredFailures();
        await _storingFailures.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task<Requested> RequestAsync(int? clusterCount)
    {
        RetryUnstoredFailures();
        // What the caller can put right is refused at once; what only the clustering finds (ties) is its stored failure.
        var count = await Pool().CountAsync(CancellationToken.None).ConfigureAwait(true);
        if (count == 0)
        {
            throw new NovelPoolException(NovelPoolError.EmptyPool, LineNovelPool.EmptyPoolMessage);
        }
        if (clusterCount > count)
        {
            throw new NovelPoolException(NovelPoolError.Invalid, $"the pool holds {count} images; the number of clusters must be between 1 and {count}, not {clusterCount}.");
        }
        // Asked twice before it started (a person who clicks again), a recluster runs once: both read the pool after the ask.
        if (_waiting.Find(waiting => waiting.Request.ClusterCount == clusterCount) is { } joined)
        {
            return joined;
        }
        var requested = new Requested(new NovelReclusterRequest(Guid.NewGuid().ToString("N"), clock.GetUtcNow(), clusterCount));
        _waiting.Add(requested);
        StartReclusters();
        return requested;
    }

    private void StartReclusters()
    {
        if (_reclusters.IsCompleted)
        {
            _reclusters = ReclustersAsync();
        }
    }

    private async Task ReclustersAsync()
    {
        // The call that started it returns here; the rest runs beside the calls that follow.
        await Task.Yield();
        while (true)
        {
            if (_waiting.Count > 0)
            {
                // Taken off the list as it starts running (ReclusterOnceAsync marks it running before its first await),
                // so that a reader sees it waiting or running throughout.
                var next = _waiting[0];
                _waiting.RemoveAt(0);
                await RequestedReclusterAsync(next).ConfigureAwait(true);
            }
            else if (_automaticDue)
            {
                _automaticDue = false;
                await AutomaticReclusterAsync().ConfigureAwait(true);
            }
            else
            {
                return;
            }
        }
    }

    private async Task RequestedReclusterAsync(Requested requested)
    {
        var request = requested.Request;
        try
        {
            while (true)
            {
                if (await ReclusterOnceAsync(request.ClusterCount, automatic: false, request.RequestId).ConfigureAwait(true) is { } set)
                {
                    requested.Result.TrySetResult(set);
                    return;
                }
            }
        }
        catch (Exception e) when (e is Core.Validation.InvalidClusteringInputException or NovelPoolException)
        {
            // The caller may be another silo: a typed error of the line's own kind crosses it with its meaning. Nobody may be
            // waiting (the request was answered 202): the failure kept and stored is what the person reads.
            var failure = e as NovelPoolException ?? new NovelPoolException(NovelPoolError.Invalid, e.Message);
            KeepFailure(new NovelReclusterFailure(clock.GetUtcNow(), false, failure.Error, failure.Message, request.RequestId));
            Fail(requested, failure);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The store away: the person's poll hears that the request failed for it and can be made again (its record is
            // kept here until the store takes it).
            LogRequestedReclusterError(logger, e, this.GetPrimaryKeyString(), request.RequestId);
            KeepFailure(new NovelReclusterFailure(clock.GetUtcNow(), false, NovelPoolError.Unavailable, CouldNotRunMessage(e), request.RequestId));
            Fail(requested, e);
        }
        finally
        {
            // Only now: a reader sees the request running until its failure is kept.
            _running = null;
        }
        await StoreUnstoredFailuresAsync().ConfigureAwait(true);
    }

    // Read by clients (GET /lines/{name}/novel): the exception's own text (blob names, storage addresses, internal types)
    // stays in the server's log, logged with the request id.
    private static string CouldNotRunMessage(Exception e) => e is IOException or TimeoutException
        ? "the recluster could not run: the blob store could not be reached; nothing was stored, ask for the recluster again once the store is back."
        : "the recluster could not run (an internal error); nothing was stored, ask for the recluster again (the server's log has the details under the request id).";

    private static void Fail(Requested requested, Exception exception)
    {
        requested.Result.TrySetException(exception);
        // Observed here: a request answered 202 has nobody awaiting its result.
        _ = requested.Result.Task.Exception;
    }

    private async Task AutomaticReclusterAsync()
    {
        try
        {
            // Asked again: the recluster that ran since the trigger may have taken in the images that made it due.
            var pool = Pool();
            var settings = await pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
            if (settings.ReclusterEvery == 0 || await pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) < settings.ReclusterEvery)
            {
                return;
            }
            if (await ReclusterOnceAsync(settings.ClusterCount, automatic: true, requestId: null).ConfigureAwait(true) is { } set)
            {
                LogReclustered(logger, this.GetPrimaryKeyString(), set.Run, set.PoolSize, set.Proposals.Count);
            }
            else
            {
                _automaticDue = true;
            }
        }
        catch (Exception e) when (e is Core.Validation.InvalidClusteringInputException or NovelPoolException)
        {
            // The images are pooled and their decisions stand; an automatic recluster that cannot cut the pool (ties) waits
            // for the next images or a recluster on request. Stored, so that the person who set the pool up sees why.
            LogReclusterFailed(logger, this.GetPrimaryKeyString(), e.Message);
            KeepFailure(new NovelReclusterFailure(clock.GetUtcNow(), true, (e as NovelPoolException)?.Error ?? NovelPoolError.Invalid, e.Message));
            _running = null;
            await StoreUnstoredFailuresAsync().ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Nobody awaits an automatic recluster: the store away is logged, and the next addition tries again.
            LogReclusterError(logger, e, this.GetPrimaryKeyString());
        }
        finally
        {
            _running = null;
        }
    }

    private void KeepFailure(NovelReclusterFailure failure)
    {
        _failures = LineNovelPool.NewestFailures([failure, .. _failures]);
        _unstoredFailures.Add(failure);
        // Bounded as the kept ones: a failure pushed out of those would be pushed out of the file by the write anyway.
        _unstoredFailures.RemoveAll(unstored => !_failures.Contains(unstored));
    }

    /// <summary>Starts writing the failures the store did not take, unless a write runs already.</summary>
    private void RetryUnstoredFailures()
    {
        if (_unstoredFailures.Count > 0 && _storingFailures.IsCompleted)
        {
            _storingFailures = StoreUnstoredFailuresAsync();
        }
    }

    /// <summary>Writes the failures not stored yet among the pool's; never faults: what the store does not take waits for the retry timer or the next call.</summary>
    private async Task StoreUnstoredFailuresAsync()
    {
        if (_unstoredFailures.Count == 0)
        {
            return;
        }
        await _proposalsTurn.WaitAsync().ConfigureAwait(true);
        // Taken in the turn: a write that held it before may have stored them all.
        var failures = _unstoredFailures.ToList();
        try
        {
            // A deleted line keeps nothing behind (see ReclusterOnceAsync).
            if (failures.Count > 0 && await LineExistsAsync().ConfigureAwait(true))
            {
                await Pool().StoreFailuresAsync(failures, CancellationToken.None).ConfigureAwait(true);
            }
            _unstoredFailures.RemoveAll(failures.Contains);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogFailuresNotStored(logger, e, this.GetPrimaryKeyString(), failures.Count);
        }
        finally
        {
            _proposalsTurn.Release();
        }
        if (_unstoredFailures.Count == 0)
        {
            _failureRetry?.Dispose();
            _failureRetry = null;
        }
        else
        {
            // No call may come for long (an automatic recluster's failure, a client that gave up): the timer tries again.
            _failureRetry ??= this.RegisterGrainTimer(() =>
            {
                RetryUnstoredFailures();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions(FailureRetryPeriod, FailureRetryPeriod) { Interleave = true });
        }
    }

    /// <summary>One recluster; null when a proposal was named while it ran, so that its result is stale and it must run again.</summary>
    private async Task<NovelProposalSet?> ReclusterOnceAsync(int? clusterCount, bool automatic, string? requestId)
    {
        var namings = _namings;
        var startedAt = clock.GetUtcNow();
        // Cleared by the caller once the outcome is stored or kept: a reader never sees it neither running nor ended.
        _running = new NovelReclusterInProgress(startedAt, automatic, requestId);
        // A recluster gets no calls, which idle collection would read as idle.
        using var keepAlive = this.RegisterGrainTimer(() =>
        {
            DelayDeactivation(TimeSpan.FromMinutes(5));
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMinutes(1)) { Interleave = true, KeepAlive = true });
        var pool = Pool();
        // Reading the pool and Ward's O(N^2 D) run on the thread pool: the activation takes additions meanwhile.
        var clustered = await Task.Run(() => pool.ClusterAsync(clusterCount, automatic, startedAt, CancellationToken.None)).ConfigureAwait(true);
        await _proposalsTurn.WaitAsync().ConfigureAwait(true);
        try
        {
            if (_namings != namings)
            {
                return null;
            }
            // A line deleted while its pool was clustered keeps no proposals behind: a line made again under its name
            // would show them. (A deletion that lists the line's blobs before this write lands calls LineDeleted, which
            // waits for this turn.)
            if (!await LineExistsAsync().ConfigureAwait(true))
            {
                throw new NovelPoolException(NovelPoolError.UnknownLine, "the line was deleted while its novel pool was being reclustered.");
            }
            return await pool.StoreAsync(clustered, requestId, CancellationToken.None).ConfigureAwait(true);
        }
        finally
        {
            _proposalsTurn.Release();
        }
    }

    private async Task<bool> LineExistsAsync() => (await catalogs.VersionsAsync(this.GetPrimaryKeyString(), CancellationToken.None).ConfigureAwait(true)).Count > 0;

    [LoggerMessage(Level = LogLevel.Information, Message = "Line {Line} no longer exists: {Count} novel images decided before its deletion are not pooled")]
    private static partial void LogAddToDeletedLine(ILogger logger, string line, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Line {Line}: novel pool reclustered automatically (run {Run}, {PoolSize} images, {Proposals} proposals)")]
    private static partial void LogReclustered(ILogger logger, string line, int run, int poolSize, int proposals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Line {Line}: the automatic recluster of the novel pool failed: {Reason}")]
    private static partial void LogReclusterFailed(ILogger logger, string line, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Line {Line}: the automatic recluster of the novel pool could not run; the next novel image tries again")]
    private static partial void LogReclusterError(ILogger logger, Exception exception, string line);

    [LoggerMessage(Level = LogLevel.Error, Message = "Line {Line}: the recluster of the novel pool asked for ({RequestId}) could not run")]
    private static partial void LogRequestedReclusterError(ILogger logger, Exception exception, string line, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Line {Line}: {Count} failed reclusters of the novel pool could not be stored; they are kept in memory and tried again")]
    private static partial void LogFailuresNotStored(ILogger logger, Exception exception, string line, int count);

    /// <summary>A recluster asked for, and its result for a caller that waits (<see cref="Recluster"/>).</summary>
    private sealed class Requested(NovelReclusterRequest request)
    {
        public NovelReclusterRequest Request { get; } = request;

        public TaskCompletionSource<NovelProposalSet> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
