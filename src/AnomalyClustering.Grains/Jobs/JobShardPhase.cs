using AnomalyClustering.Abstractions.Jobs;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The second stage of a job: every image embedded and weighed, by the job's shard grains, at most
/// <see cref="CoordinatorOptions.MaxActiveShards"/> at a time. The coordinator follows the running shards by calling them
/// (which also resumes a shard whose silo was lost, or whose run a fault paused) and records each shard once it is done.
/// </summary>
internal static class JobShardPhase
{
    // The progress of a shard called for the first time, until its answer.
    private static readonly ShardProgress NotStarted = new(0, 0, 0, 0, null, 0, 0);

    public static async Task RunAsync(JobRunContext run, CancellationToken cancellationToken)
    {
        var state = run.State;
        var manifest = run.Manifest;
        var shardCount = manifest.ImageChunkCount;
        if (state.ShardsDone.Length == 0)
        {
            state.ShardsDone = new ulong[(shardCount + 63) / 64];
        }
        var activeLimit = Math.Max(1, run.Options.MaxActiveShards);
        var work = new ShardWork(
            manifest,
            run.Specification.Options,
            run.Specification.BackboneDescriptionJson,
            state.ReferenceImages,
            state.ReferenceFeatures,
            state.ReferencesPerImage,
            state.NormalFeatures.Where(blob => blob is not null).Select(blob => blob!).ToArray(),
            // The job's in-flight budget, shared by its running shards.
            Math.Max(1, (run.Options.MaxInFlightImages + activeLimit - 1) / activeLimit),
            state.CacheFeatures,
            state.ReferenceContentHashes);
        // Shards that ran before a restart are followed first, then the others in order.
        var active = state.ActiveShards.Keys.Where(shard => !state.IsShardDone(shard)).Order().ToList();
        var waiting = new Queue<int>(Enumerable.Range(0, shardCount).Where(shard => !state.IsShardDone(shard) && !active.Contains(shard)));
        try
        {
            await FollowShardsAsync(run, state, work, activeLimit, active, waiting, cancellationToken).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The cancel stopped the shards that ran then; a shard whose Run call was in flight at that moment was not among
            // them (or got its Stop before its Run). No call of this loop is in flight now, so this stop is the last word.
            // Not awaited: a deletion cancels this loop too and waits for the shards in its own steps (Forget), after its
            // call has answered; waiting here would hold that call for the shards' image calls.
            _ = StopQuietlyAsync(run);
            throw;
        }
    }

    private static async Task FollowShardsAsync(
        JobRunContext run, JobCoordinatorState state, ShardWork work, int activeLimit, List<int> active, Queue<int> waiting, CancellationToken cancellationToken)
    {
        while (waiting.Count > 0 || active.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (active.Count < activeLimit && waiting.TryDequeue(out var next))
            {
                active.Add(next);
            }
            foreach (var shard in active.ToArray())
            {
                // A cancel may land while the previous shard's call is awaited: no shard is started after it.
                cancellationToken.ThrowIfCancellationRequested();
                // Known as running before it is called, so that a stop reaches it even when the call's answer is lost.
                run.ActiveShards.TryAdd(shard, NotStarted);
                ShardProgress progress;
                try
                {
                    progress = await run.Grains.GetGrain<IJobShardGrain>(JobShardKey.For(run.JobId, shard)).Run(work).ConfigureAwait(true);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The shard's silo is gone or the call timed out: the next call activates it again, from its bitmap.
                    run.Logger.LogWarning(e, "Job {JobId}: shard {Shard} did not answer; asking again", run.JobId, shard);
                    continue;
                }
                if (!progress.IsComplete)
                {
                    run.ActiveShards[shard] = progress;
                    continue;
                }
                state.MarkShardDone(shard);
                state.ProcessedInDoneShards += progress.Processed;
                state.FailedInDoneShards += progress.Failed;
                state.CacheHits += progress.CacheHits;
                if (progress.GridHeight > 0)
                {
                    (state.GridHeight, state.GridWidth) = (progress.GridHeight, progress.GridWidth);
                }
                active.Remove(shard);
                run.ActiveShards.Remove(shard);
                await run.WriteStateAsync().ConfigureAwait(true);
            }
            // Also keeps the coordinator alive: following its shards is not an incoming call.
            await run.CheckpointAsync().ConfigureAwait(true);
            if (active.Count > 0)
            {
                await Task.Delay(run.Options.ShardPollInterval, cancellationToken).ConfigureAwait(true);
            }
        }
    }

    private static async Task StopQuietlyAsync(JobRunContext run)
    {
        try
        {
            await StopAsync(run).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            run.Logger.LogWarning(e, "Job {JobId}: the shards started before its cancel could not all be stopped", run.JobId);
        }
    }

    /// <summary>
    /// Stops the shards that run now (a cancelled job); what they did stays. All at once: each may wait for its image
    /// calls (<see cref="ImageCallWatchdog.StopGrace"/>), and those waits must not add up.
    /// </summary>
    public static async Task StopAsync(JobRunContext run)
    {
        await Task.WhenAll(run.ActiveShards.Keys.ToArray().Select(async shard =>
        {
            try
            {
                await run.Grains.GetGrain<IJobShardGrain>(JobShardKey.For(run.JobId, shard)).Stop().ConfigureAwait(true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                run.Logger.LogWarning(e, "Job {JobId}: shard {Shard} could not be stopped", run.JobId, shard);
            }
        })).ConfigureAwait(true);
        run.ActiveShards.Clear();
    }
}
