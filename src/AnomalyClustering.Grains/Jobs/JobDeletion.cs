using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Deletes a job and waits for the deletion to end, for callers that need it gone before they go on: the embedded CLI, and
/// retention (<see cref="JobRetentionService"/>), which deletes a bounded number of jobs a pass. The deletion itself runs
/// in the job's coordinator (<see cref="IClusteringJobGrain.Delete"/>); <c>DELETE /jobs/{id}</c> waits a little and then
/// answers with the status to follow.
/// </summary>
public static class JobDeletion
{
    /// <summary>
    /// Deletes job <paramref name="jobId"/> and returns once it is gone. Idempotent: deleting a deleted (or unknown) job
    /// deletes nothing and succeeds; a deletion already running is joined.
    /// </summary>
    /// <param name="grains">The cluster.</param>
    /// <param name="jobId">The job.</param>
    /// <param name="cancellationToken">Stops the wait (the deletion goes on in the coordinator).</param>
    /// <param name="onlyIfFinishedBefore">
    /// Retention's condition: only a job that finished, and was created, before this is deleted (a job that took the id
    /// since is left alone).
    /// </param>
    /// <returns>False when <paramref name="onlyIfFinishedBefore"/> left the job alone.</returns>
    public static async Task<bool> DeleteAsync(IGrainFactory grains, string jobId, CancellationToken cancellationToken = default, DateTimeOffset? onlyIfFinishedBefore = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        JobBlobNames.ValidateJobId(jobId);
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
        if (await coordinator.Delete(onlyIfFinishedBefore).WaitAsync(cancellationToken).ConfigureAwait(false) is not { } startedAt)
        {
            return false;
        }
        while (!await coordinator.WaitForDeletion(startedAt, IClusteringJobGrain.MaxDeletionWait).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
        }
        return true;
    }
}
