using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Retention on coordinator silos: every <see cref="JobRetentionOptions.SweepInterval"/>, deletes (<see cref="JobDeletion"/>)
/// up to <see cref="JobRetentionOptions.MaxJobsPerSweep"/> finished jobs, oldest first, whose last state change is older
/// than <see cref="JobRetentionOptions.FinishedJobRetention"/>, as the job registry knows them (listed or pruned from the
/// list); and, when <see cref="JobRetentionOptions.FeatureCacheRetention"/> is set, up to
/// <see cref="JobRetentionOptions.MaxFeatureCacheEntriesPerSweep"/> feature-cache entries written before it
/// (<see cref="FeatureCacheExpiry"/>); and, retention on or off, the outcome blobs that image calls wrote after their job's
/// deletion (<see cref="SweepDeletedAsync"/>). Each coordinator silo sweeps; deletion is idempotent, so two passes meeting on one
/// job or entry cost a repeated delete only.
/// </summary>
public sealed class JobRetentionService(
    IGrainFactory grains, IBlobStore store, IOptions<JobRetentionOptions> options, ILogger<JobRetentionService> logger, TimeProvider time) : BackgroundService
{
    // How long a pass waits for one job's deletion, which goes on in its coordinator past it (a million-image job's takes
    // minutes): long enough that small jobs are counted as deleted, short enough that deletions stuck on a store that is
    // away cost a pass at most this each.
    private static readonly TimeSpan DeletionWait = TimeSpan.FromMinutes(1);

    /// <summary>One pass: deletes the expired jobs (at most the per-pass bound) and returns their ids.</summary>
    public Task<IReadOnlyList<string>> SweepAsync(CancellationToken cancellationToken) =>
        SweepAsync(time.GetUtcNow() - options.Value.FinishedJobRetention, cancellationToken);

    /// <summary>
    /// One pass over the jobs that finished before <paramref name="finishedBefore"/>: deletes up to the per-pass bound, oldest
    /// first, and returns their ids. A job whose deletion fails is logged and left for the next pass.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken)
    {
        var expired = await grains.GetGrain<IJobRegistryGrain>(0).FinishedBefore(finishedBefore, options.Value.MaxJobsPerSweep).ConfigureAwait(false);
        var deleted = new List<string>(expired.Count);
        foreach (var jobId in expired)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // One deletion at a time, each waited for (a bounded while): the pass's bound is the load it puts on the store.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(DeletionWait);
            try
            {
                // Only the job that expired: another coordinator's pass may have deleted it since, and a new job taken the id.
                if (!await JobDeletion.DeleteAsync(grains, jobId, wait.Token, onlyIfFinishedBefore: finishedBefore).ConfigureAwait(false))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Retention's deletion of job {JobId} still runs after {Wait}; it goes on in the job's coordinator", jobId, DeletionWait);
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Retention could not delete job {JobId}; the next pass tries again", jobId);
                continue;
            }
            deleted.Add(jobId);
            AnomalyClusteringTelemetry.JobsExpired.Add(1);
            logger.LogInformation("Retention deleted job {JobId} (finished before {FinishedBefore:u}) with its uploads, outcomes and result", jobId, finishedBefore);
        }
        if (expired.Count > 0)
        {
            logger.LogInformation("Retention pass: {Deleted} of {Expired} expired jobs deleted (at most {Bound} a pass)", deleted.Count, expired.Count, options.Value.MaxJobsPerSweep);
        }
        return deleted;
    }

    /// <summary>
    /// One pass over the feature cache: deletes up to the per-pass bound of entries written before
    /// <paramref name="writtenBefore"/> and returns how many; none when <see cref="JobRetentionOptions.FeatureCacheRetention"/> is unset.
    /// </summary>
    public async Task<int> SweepFeatureCacheAsync(DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        if (options.Value.FeatureCacheRetention is null)
        {
            return 0;
        }
        var deleted = await FeatureCacheExpiry.DeleteWrittenBeforeAsync(store, writtenBefore, options.Value.MaxFeatureCacheEntriesPerSweep, cancellationToken)
            .ConfigureAwait(false);
        if (deleted > 0)
        {
            logger.LogInformation("Retention deleted {Deleted} feature-cache entries written before {WrittenBefore:u} (at most {Bound} a pass)",
                deleted, writtenBefore, options.Value.MaxFeatureCacheEntriesPerSweep);
        }
        return deleted;
    }

    /// <summary>
    /// One pass over the jobs deleted before <paramref name="deletedBefore"/> (at most the per-pass bound): deletes the outcome
    /// blobs written after their deletion, by image calls that outlived its stop grace, and returns how many. A job whose id
    /// a new job took since is left alone: the registry's mark is cleared by the new job's first report
    /// (<see cref="IJobRegistryGrain.IsMarkedDeleted"/>), and, since that report can fail (the registry away: the coordinator
    /// goes on without it), the sweep itself runs in the id's coordinator, which deletes nothing while the id holds a job
    /// (<see cref="IClusteringJobGrain.SweepLateOutcomes"/>). A job's mark is cleared only after its sweep succeeded, so a
    /// store that fails is tried again next pass. Only the outcomes are swept: the image grains are the only writers that
    /// can outlive a deletion (shards and the coordinator stop before it goes on).
    /// </summary>
    public async Task<long> SweepDeletedAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IJobRegistryGrain>(0);
        var deleted = await registry.DeletedBefore(deletedBefore, options.Value.MaxJobsPerSweep).ConfigureAwait(false);
        var late = 0L;
        foreach (var jobId in deleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (!await registry.IsMarkedDeleted(jobId).ConfigureAwait(false))
                {
                    continue;
                }
                var removed = await grains.GetGrain<IClusteringJobGrain>(jobId).SweepLateOutcomes().WaitAsync(cancellationToken).ConfigureAwait(false);
                await registry.ForgetDeleted(jobId).ConfigureAwait(false);
                if (removed is null)
                {
                    logger.LogInformation("Deleted job {JobId}: a new job holds its id; its outcomes are the new job's and stay", jobId);
                }
                else if (removed is > 0 and var count)
                {
                    late += count;
                    logger.LogWarning("Deleted job {JobId} had {Count} outcome blobs written after its deletion (image calls that outlived the stop); removed", jobId, count);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not sweep the late outcomes of deleted job {JobId}; the next pass tries again", jobId);
            }
        }
        return late;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var enabled = options.Value.Enabled;
        if (!enabled)
        {
            logger.LogInformation("Retention is off ({Section}:Enabled=false): finished jobs keep their blobs until deleted; deleted jobs are still checked for late outcome blobs",
                JobRetentionOptions.Section);
        }
        // The first pass one interval after start: by then the silo has joined the cluster and the registry can be reached.
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                if (enabled)
                {
                    await SweepAsync(stoppingToken).ConfigureAwait(false);
                    if (options.Value.FeatureCacheRetention is { } keep)
                    {
                        await SweepFeatureCacheAsync(time.GetUtcNow() - keep, stoppingToken).ConfigureAwait(false);
                    }
                }
                await SweepDeletedAsync(time.GetUtcNow() - options.Value.DeletedJobRecheckDelay, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The registry unreachable (a silo shutting down, Redis away): the next tick tries again.
                logger.LogWarning(e, "Retention pass failed; the next one runs in {Interval}", options.Value.SweepInterval);
            }
        }
    }
}
