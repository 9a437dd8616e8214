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
/// while a recluster runs makes that recluster start again, since its members have left the pool.
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineNovelPoolGrain(IBlobStore blobs, LineCatalogStore catalogs, TimeProvider clock, ILogger<LineNovelPoolGrain> logger)
    : Grain, ILineNovelPoolGrain
{
    // Naming and storing a recluster's proposals both rewrite novel/proposals.json, and a recluster's store step
    // interleaves with calls: they take this in turn.
    private readonly SemaphoreSlim _proposalsTurn = new(1, 1);

    // The recluster running now and the automatic ones due behind it; it never faults (automatic failures are logged,
    // a requested recluster's failure goes to its caller).
    private Task _reclusters = Task.CompletedTask;

    // An automatic recluster is due once the running one ends.
    private bool _automaticDue;

    // Requested reclusters waiting for the running one: automatic ones due meanwhile wait for them, so a steady intake
    // cannot keep a person's request waiting behind recluster after recluster.
    private int _requestsWaiting;

    // Proposals named by this activation; a recluster that read the pool before one ended holds its members.
    private int _namings;

    private NovelReclusterInProgress? _running;

    // A fresh view per call: its index is one listing of the pool, so a line deleted and made again under the same name
    // (or a pool changed by the API's settings) is never seen through a stale index.
    private LineNovelPool Pool() => new(blobs, catalogs, this.GetPrimaryKeyString());

    /// <inheritdoc />
    public async Task Add(IReadOnlyList<NovelPoolImage> images)
    {
        var pool = Pool();
        var settings = await pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
        if (await pool.AddAsync(images, settings, CancellationToken.None).ConfigureAwait(true) == 0 || settings.ReclusterEvery == 0
            || await pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) < settings.ReclusterEvery)
        {
            return;
        }
        // Not awaited: the images are pooled, and the caller's decisions wait for nothing more.
        _automaticDue = true;
        if (_reclusters.IsCompleted)
        {
            _reclusters = AutomaticReclustersAsync();
        }
    }

    /// <inheritdoc />
    public async Task<NovelProposalSet> Recluster(int? clusterCount)
    {
        // One recluster at a time: a requested one runs after the running one, before the automatic ones due meanwhile.
        _requestsWaiting++;
        try
        {
            while (!_reclusters.IsCompleted)
            {
                await _reclusters.ConfigureAwait(true);
            }
        }
        finally
        {
            _requestsWaiting--;
        }
        var requested = RequestedReclusterAsync(clusterCount);
        _reclusters = AutomaticReclustersAfterAsync(requested);
        try
        {
            return await requested.ConfigureAwait(true);
        }
        catch (Core.Validation.InvalidClusteringInputException e)
        {
            // The caller may be another silo: a typed error of the line's own kind crosses it with its meaning.
            throw new NovelPoolException(NovelPoolError.Invalid, e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<int> Name(string proposalId, string name)
    {
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
    public Task<NovelReclusterInProgress?> Reclustering() => Task.FromResult(_running);

    /// <inheritdoc />
    public async Task LineDeleted()
    {
        await _proposalsTurn.WaitAsync().ConfigureAwait(true);
        try
        {
            // The running recluster read the deleted line's pool: its result is stale even for a line made again meanwhile.
            _namings++;
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
    }

    private async Task<NovelProposalSet> RequestedReclusterAsync(int? clusterCount)
    {
        while (true)
        {
            if (await ReclusterOnceAsync(clusterCount, automatic: false).ConfigureAwait(true) is { } set)
            {
                return set;
            }
        }
    }

    private async Task AutomaticReclustersAfterAsync(Task requested)
    {
        await requested.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        await AutomaticReclustersAsync().ConfigureAwait(true);
    }

    private async Task AutomaticReclustersAsync()
    {
        // The addition that started it returns here; the rest runs beside the calls that follow.
        await Task.Yield();
        while (_automaticDue && _requestsWaiting == 0)
        {
            _automaticDue = false;
            try
            {
                // Asked again: the recluster that ran since the trigger may have taken in the images that made it due.
                var pool = Pool();
                var settings = await pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
                if (settings.ReclusterEvery == 0 || await pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) < settings.ReclusterEvery)
                {
                    continue;
                }
                if (await ReclusterOnceAsync(settings.ClusterCount, automatic: true).ConfigureAwait(true) is { } set)
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
                // for the next images or a recluster on request, which reports the reason.
                LogReclusterFailed(logger, this.GetPrimaryKeyString(), e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Nobody awaits an automatic recluster: the store away is logged, and the next addition tries again.
                LogReclusterError(logger, e, this.GetPrimaryKeyString());
            }
        }
    }

    /// <summary>One recluster; null when a proposal was named while it ran, so that its result is stale and it must run again.</summary>
    private async Task<NovelProposalSet?> ReclusterOnceAsync(int? clusterCount, bool automatic)
    {
        var namings = _namings;
        var startedAt = clock.GetUtcNow();
        _running = new NovelReclusterInProgress(startedAt, automatic);
        // A recluster gets no calls, which idle collection would read as idle.
        using var keepAlive = this.RegisterGrainTimer(() =>
        {
            DelayDeactivation(TimeSpan.FromMinutes(5));
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMinutes(1)) { Interleave = true, KeepAlive = true });
        try
        {
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
                return await pool.StoreAsync(clustered, CancellationToken.None).ConfigureAwait(true);
            }
            finally
            {
                _proposalsTurn.Release();
            }
        }
        finally
        {
            _running = null;
        }
    }

    private async Task<bool> LineExistsAsync() => (await catalogs.VersionsAsync(this.GetPrimaryKeyString(), CancellationToken.None).ConfigureAwait(true)).Count > 0;

    [LoggerMessage(Level = LogLevel.Information, Message = "Line {Line}: novel pool reclustered automatically (run {Run}, {PoolSize} images, {Proposals} proposals)")]
    private static partial void LogReclustered(ILogger logger, string line, int run, int poolSize, int proposals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Line {Line}: the automatic recluster of the novel pool failed: {Reason}")]
    private static partial void LogReclusterFailed(ILogger logger, string line, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Line {Line}: the automatic recluster of the novel pool could not run; the next novel image tries again")]
    private static partial void LogReclusterError(ILogger logger, Exception exception, string line);
}
