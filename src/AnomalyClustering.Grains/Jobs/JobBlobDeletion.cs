using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The blobs a job owns, deleted by its coordinator's deletion (<see cref="ClusteringJobGrain"/>): its upload prefix, its job
/// prefix (outcomes, manifest, result) and its feature-cache pins. Feature-cache blobs and report thumbnails are not the
/// job's: they are keyed by image content and shared by every job over the same images. Every step is idempotent, so a
/// deletion cut short is finished by running it again.
/// </summary>
internal static class JobBlobDeletion
{
    /// <summary>Deletes the blobs of job <paramref name="jobId"/>; <paramref name="deleted"/> hears the counts as they go.</summary>
    public static async Task DeleteAsync(IBlobStore store, string jobId, Action<long> deleted, CancellationToken cancellationToken)
    {
        await store.DeletePrefixAsync(JobBlobNames.UploadPrefix(jobId), keep: null, BlobStoreExtensions.DeletionBatch, cancellationToken, deleted).ConfigureAwait(false);
        // The result and the owner record last: while they exist the job is still found (the API rebuilds its status from
        // them), and so is a recovered job (its coordinator state lost) whose deletion was cut short.
        string[] last = [JobBlobNames.Result(jobId), JobBlobNames.Owner(jobId)];
        // In rounds of listed names (BlobStoreExtensions.DeletionBatch): a million-image job's names are not held at once.
        await store.DeletePrefixAsync(JobBlobNames.JobPrefix(jobId), keep: name => last.Contains(name), BlobStoreExtensions.DeletionBatch, cancellationToken, deleted)
            .ConfigureAwait(false);
        // Its feature-cache pins: the content-keyed bags themselves are shared, and expire once nothing pins them.
        await FeatureCachePins.UnpinAsync(store, FeatureCachePins.JobOwner(jobId), cancellationToken).ConfigureAwait(false);
        // One after the other, and after everything else: see above.
        foreach (var name in last)
        {
            if (await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false))
            {
                deleted(1);
            }
        }
    }
}
