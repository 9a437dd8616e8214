using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// A job whose result blob exists is never 404: when its coordinator has no state (the grain storage lost it, e.g. Redis
/// restarted empty) but <c>jobs/{id}/result.json</c> is in the store, the API answers from a completed status rebuilt from
/// the result document and the job's owner record (<see cref="JobBlobNames.Owner"/>, written at submission: the tenant
/// and the submission time, which the result document does not hold). The result routes then read the document as usual.
/// </summary>
public static class RecoveredJobs
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Who a job belongs to, kept beside its result.</summary>
    /// <param name="Tenant">The submitter's tenant, or null (a job every caller sees).</param>
    /// <param name="CreatedAt">When the job was submitted.</param>
    /// <param name="Source">Where its images came from (the dataset prefix, whose names plus the image ids are the image blobs).</param>
    public sealed record OwnerRecord(string? Tenant, DateTimeOffset CreatedAt, string Source);

    /// <summary>Writes the owner record of a job its coordinator accepted.</summary>
    public static async Task WriteOwnerAsync(IBlobStore store, JobStatus accepted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(accepted);
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new OwnerRecord(accepted.Tenant, accepted.CreatedAt, accepted.Source), Json));
        await store.PutAsync(JobBlobNames.Owner(accepted.JobId), content, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The completed status of <paramref name="jobId"/> rebuilt from its result document, and whether its owner is known;
    /// null when there is no result blob. A job without an owner record (submitted before owner records were written)
    /// has an unknown tenant: only callers who see every job may see it.
    /// </summary>
    public static async Task<(JobStatus Status, bool OwnerKnown)?> FromResultAsync(IBlobStore store, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var resultBlob = JobBlobNames.Result(jobId);
        BlobEntry? written = null;
        await foreach (var entry in store.ListAsync(resultBlob, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Name == resultBlob)
            {
                written = entry;
                break;
            }
        }
        if (written is null)
        {
            return null;
        }
        var owner = await ReadOwnerAsync(store, jobId, cancellationToken).ConfigureAwait(false);
        ResultSummary summary;
        try
        {
            summary = await JobResultFiles.ReadSummaryAsync(store, resultBlob, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            // Deleted between the listing and the read: the job is gone.
            return null;
        }
        var clustered = summary.ImageCount;
        var status = new JobStatus
        {
            JobId = jobId,
            State = JobState.Completed,
            // The summary counts errors by reason only: the normal images' failures are among them (they are few).
            TotalImages = clustered + summary.ErrorCount,
            EmbeddedImages = clustered,
            WeightedImages = clustered,
            FailedImages = summary.ErrorCount,
            CreatedAt = owner?.CreatedAt ?? written.LastModified,
            UpdatedAt = written.LastModified,
            ResultBlob = resultBlob,
            ClusterCount = summary.ClusterCount,
            Warnings = [.. summary.Warnings.Select(warning => new JobWarning(warning.Code, warning.Message))],
            Source = owner?.Source ?? summary.SourcePath,
            Tenant = owner?.Tenant,
        };
        return (status, owner is not null);
    }

    /// <summary>The images the job could not use, from its result document (a recovered job's coordinator has no list).</summary>
    public static async Task<IReadOnlyList<ImageFailure>> FailuresAsync(IBlobStore store, JobStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        IReadOnlyList<ImageError> errors;
        try
        {
            var index = await JobResultFiles.ReadIndexAsync(store, status.JobId, cancellationToken).ConfigureAwait(false);
            errors = await JobResultFiles.ReadErrorsAsync(store, status.JobId, index, 0, index.ErrorCount, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            // A result of an earlier version (one document, no pages).
            errors = (await JobApi.ReadResultAsync(store, status, cancellationToken).ConfigureAwait(false)).Result.Errors;
        }
        return errors.Select(error => new ImageFailure(error.Id, error.Path, error.Reason, error.Message, error.IsNormalImage)).ToArray();
    }

    private static async Task<OwnerRecord?> ReadOwnerAsync(IBlobStore store, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await using var record = await store.OpenReadAsync(JobBlobNames.Owner(jobId), cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<OwnerRecord>(record, Json, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}
