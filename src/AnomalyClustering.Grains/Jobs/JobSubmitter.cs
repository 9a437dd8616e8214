using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>A job as a client holds it before submitting: the image lists themselves, which the submission writes to a manifest.</summary>
/// <param name="Images">The images to cluster, in output order; ids unique; all labelled or none.</param>
/// <param name="NormalImages">Defect-free images for semi-supervised mode; may be empty.</param>
/// <param name="Options">The clustering options.</param>
/// <param name="BackboneDescriptionJson">The backbone description (JSON).</param>
/// <param name="Source">Where the images came from, for people.</param>
/// <param name="Tenant">The submitting caller's tenant; null for none.</param>
public sealed record JobSubmission(
    IReadOnlyList<JobImage> Images,
    IReadOnlyList<JobImage> NormalImages,
    JobOptions Options,
    string BackboneDescriptionJson,
    string Source = "",
    string? Tenant = null);

/// <summary>
/// A job whose images are written into its manifest as they are found, never held as lists: a prefix listing of a
/// million names streams through <paramref name="WriteImages"/> into the manifest's chunks.
/// </summary>
/// <param name="WriteImages">Adds the images (and normal images) to the writer, in output order; throws to refuse the job.</param>
/// <param name="Options">The clustering options.</param>
/// <param name="BackboneDescriptionJson">The backbone description (JSON).</param>
/// <param name="Source">Where the images came from, for people.</param>
/// <param name="Tenant">The submitting caller's tenant; null for none.</param>
/// <param name="IdsAreUnique">True when the ids are unique by construction (the paths of one listing), so the writer does not keep them to check.</param>
public sealed record StreamedJobSubmission(
    Func<JobManifestWriter, CancellationToken, Task> WriteImages,
    JobOptions Options,
    string BackboneDescriptionJson,
    string Source = "",
    string? Tenant = null,
    bool IdsAreUnique = false);

/// <summary>
/// Submits a job as every client does (the API, the embedded CLI, tests): writes its manifest to the blob store, then
/// sends the coordinator the reference. A job id that exists already is answered with its status and nothing is written
/// (a failed or cancelled one is started again from its own manifest first: see <see cref="IClusteringJobGrain.Retry"/>);
/// a manifest the coordinator did not take (refused, or another submission of the same id won) is deleted again.
/// </summary>
public static class JobSubmitter
{
    /// <summary>Submits <paramref name="submission"/> as job <paramref name="jobId"/>; returns the coordinator's status.</summary>
    /// <exception cref="InvalidJobException">The job was refused; the message says why.</exception>
    /// <exception cref="JobBeingDeletedException">A job with the id is being deleted; submit again once its deletion ends.</exception>
    public static async Task<JobStatus> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, JobSubmission submission,
        int chunkSize = JobManifestStore.DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        return await SubmitAsync(
            store, grains, jobId, prefix => JobManifestStore.WriteAsync(store, prefix, submission.Images, submission.NormalImages, chunkSize, cancellationToken),
            submission.Options, submission.BackboneDescriptionJson, submission.Source, submission.Tenant).ConfigureAwait(false);
    }

    /// <summary>
    /// Submits <paramref name="submission"/> as job <paramref name="jobId"/>, its images written into the manifest's chunks as
    /// <see cref="StreamedJobSubmission.WriteImages"/> finds them; returns the coordinator's status. A job that exists
    /// already is answered before anything is listed.
    /// </summary>
    /// <exception cref="InvalidJobException">The job was refused; the message says why.</exception>
    /// <exception cref="JobBeingDeletedException">A job with the id is being deleted; submit again once its deletion ends.</exception>
    public static async Task<JobStatus> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, StreamedJobSubmission submission,
        int chunkSize = JobManifestStore.DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        return await SubmitAsync(store, grains, jobId, async prefix =>
        {
            var writer = new JobManifestWriter(store, prefix, chunkSize, submission.IdsAreUnique);
            await submission.WriteImages(writer, cancellationToken).ConfigureAwait(false);
            return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }, submission.Options, submission.BackboneDescriptionJson, submission.Source, submission.Tenant).ConfigureAwait(false);
    }

    private static async Task<JobStatus> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, Func<string, Task<JobManifestReference>> writeManifest,
        JobOptions options, string backboneDescriptionJson, string source, string? tenant)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(grains);
        JobBlobNames.ValidateJobId(jobId);
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
        var existing = await coordinator.GetStatus().ConfigureAwait(false);
        // Not the existing job: it is going away, and a new one must wait until its deletion has taken its blobs.
        existing.ThrowIfBeingDeleted();
        if (existing.State is JobState.Failed or JobState.Cancelled)
        {
            // Resubmitting a job that did not complete starts it again, from the manifest it was submitted with.
            return await coordinator.Retry().ConfigureAwait(false);
        }
        if (existing.State != JobState.Unknown)
        {
            return existing;
        }
        var prefix = JobBlobNames.Manifest(jobId, Guid.NewGuid().ToString("n"));
        var accepted = false;
        try
        {
            var manifest = await writeManifest(prefix).ConfigureAwait(false);
            var specification = new JobSpecification(manifest, options, backboneDescriptionJson, source) { Tenant = tenant };
            var status = await coordinator.Submit(specification).ConfigureAwait(false);
            accepted = (await coordinator.GetManifest().ConfigureAwait(false))?.Prefix == prefix;
            return status;
        }
        finally
        {
            if (!accepted)
            {
                await store.DeletePrefixAsync(prefix, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
