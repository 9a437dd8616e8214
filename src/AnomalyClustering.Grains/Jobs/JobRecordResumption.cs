using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// At a coordinator silo's start, activates the coordinator of every job that has a record (<see cref="JobRecordStore"/>:
/// jobs without a result), so that a job whose state the state store lost is resumed even when nobody asks about it (the
/// activation does it, <see cref="ClusteringJobGrain"/>; a job whose state is intact just goes on, as its reminder would
/// have it). The records are streamed from one prefix listing, a few activations at a time: memory does not grow with the
/// jobs. Every coordinator silo runs the pass; a job's one activation makes a second pass harmless.
/// </summary>
public sealed class JobRecordResumption(IGrainFactory grains, IBlobStore store, IHostApplicationLifetime lifetime, ILogger<JobRecordResumption> logger)
    : BackgroundService
{
    private const int ActivationsAtOnce = 4;

    /// <summary>One pass over the records; returns how many jobs' coordinators it asked.</summary>
    public async Task<int> ActivateRecordedJobsAsync(CancellationToken cancellationToken)
    {
        var asked = 0;
        await Parallel.ForEachAsync(JobRecordStore.ListJobIdsAsync(store, cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = ActivationsAtOnce, CancellationToken = cancellationToken },
            async (jobId, _) =>
            {
                try
                {
                    var status = await grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus().ConfigureAwait(false);
                    Interlocked.Increment(ref asked);
                    logger.LogDebug("Job {JobId} has a record; its coordinator says {State}", jobId, status.State);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Job {JobId}: its coordinator could not be activated from its record; its next activation resumes it", jobId);
                }
            }).ConfigureAwait(false);
        return asked;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // After the host started: the silo has joined the cluster and grain calls can be placed.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task.ConfigureAwait(false);
        }
        try
        {
            var asked = await ActivateRecordedJobsAsync(stoppingToken).ConfigureAwait(false);
            logger.LogInformation("Job records: the coordinators of {Jobs} jobs without a result were activated (each resumes its job if its state was lost)", asked);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store away at start: each job is still resumed by the next request for it.
            logger.LogWarning(e, "Job records could not be listed at start; a job whose state was lost is resumed when it is next asked for");
        }
    }
}
