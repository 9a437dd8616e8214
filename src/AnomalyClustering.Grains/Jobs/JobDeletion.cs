using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Deletes a job and everything it owns: stops it, clears its coordinator's state, deletes its blobs (its job prefix and
/// its upload prefix, <see cref="JobBlobNames"/>) and removes it from the job registry. Used by <c>DELETE /jobs/{id}</c>
/// and by retention (<see cref="JobRetentionService"/>). Feature-cache blobs and report thumbnails are not the job's:
/// they are keyed by image content and shared by every job over the same images.
/// </summary>
public static class JobDeletion
{
    /// <summary>
    /// Deletes job <paramref name="jobId"/>. Idempotent: deleting a deleted (or unknown) job deletes nothing and succeeds,
    /// so a deletion that failed half-way is finished by running it again. While it runs, the id refuses new jobs
    /// (<see cref="JobBeingDeletedException"/>).
    /// </summary>
    /// <param name="grains">The cluster.</param>
    /// <param name="store">The blob store.</param>
    /// <param name="jobId">The job.</param>
    /// <param name="cancellationToken">Stops the blob deletion (the job stays marked; asking again finishes it).</param>
    /// <param name="onlyIfFinishedBefore">
    /// Retention's condition: only a job that finished before this is deleted (a job that took the id since is left alone).
    /// </param>
    /// <returns>False when <paramref name="onlyIfFinishedBefore"/> left the job alone.</returns>
    public static async Task<bool> DeleteAsync(
        IGrainFactory grains, IBlobStore store, string jobId, CancellationToken cancellationToken = default, DateTimeOffset? onlyIfFinishedBefore = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(store);
        JobBlobNames.ValidateJobId(jobId);
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
        // The coordinator first: once it returns, no image work of the job is in flight to write blobs behind our back, and
        // the id takes no new job (whose blobs the deletion below would take with it) until EndDeletion.
        if (await coordinator.BeginDeletion(onlyIfFinishedBefore).ConfigureAwait(false) is not { } startedAt)
        {
            return false;
        }
        await store.DeletePrefixAsync(JobBlobNames.UploadPrefix(jobId), cancellationToken).ConfigureAwait(false);
        // The result and the owner record last: while they exist the job is still found (the API rebuilds its status from
        // them), so a deletion that fails before the end can be asked for again by the job's own tenant.
        string[] last = [JobBlobNames.Result(jobId), JobBlobNames.Owner(jobId)];
        // In rounds of listed names (BlobStoreExtensions.DeletionBatch): a million-image job's names are not held at once.
        await store.DeletePrefixAsync(JobBlobNames.JobPrefix(jobId), keep: name => last.Contains(name), BlobStoreExtensions.DeletionBatch, cancellationToken)
            .ConfigureAwait(false);
        // Its feature-cache pins: the content-keyed bags themselves are shared, and expire once nothing pins them.
        await FeatureCachePins.UnpinAsync(store, FeatureCachePins.JobOwner(jobId), cancellationToken).ConfigureAwait(false);
        // One after the other, and after everything else: see above.
        foreach (var name in last)
        {
            await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        }
        // Marked, not only forgotten: an image call that outlived the stop grace may still write its outcome, so retention
        // sweeps the job's outcomes once more later (JobRetentionService.SweepDeletedAsync).
        await grains.GetGrain<IJobRegistryGrain>(0).MarkDeleted(jobId, startedAt).ConfigureAwait(false);
        // Last: from here the id is free for a new job.
        await coordinator.EndDeletion(startedAt).ConfigureAwait(false);
        return true;
    }
}
