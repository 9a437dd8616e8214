using System.Runtime.CompilerServices;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a coordinator needs to run a job again from nothing, kept in the blob store beside (not in) its grain state: written
/// at submission before the job is accepted, marked when the job is cancelled or fails, deleted when it completes (its result
/// then answers for it, <c>RecoveredJobs</c>) or is deleted. A coordinator that activates with no state (Redis restarted
/// empty) but finds a record unmarked and no result resumes the job from it (<see cref="ClusteringJobGrain"/>).
/// </summary>
public static class JobRecordStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A job as its record keeps it.</summary>
    /// <param name="Specification">The job as submitted: its manifest reference, options, backbone, source and tenant.</param>
    /// <param name="CreatedAt">When the job was submitted.</param>
    /// <param name="CacheFeatures">Whether its shards keep every image's patch bag (decided at submission).</param>
    /// <param name="FinishedState">Cancelled or Failed once the job stopped so (it is then not resumed); null while it should run.</param>
    /// <param name="Error">The job-level error of a failed job.</param>
    public sealed record JobRecord(JobSpecification Specification, DateTimeOffset CreatedAt, bool CacheFeatures, JobState? FinishedState = null, string? Error = null);

    /// <summary>Writes (or replaces) the record of <paramref name="jobId"/>.</summary>
    public static async Task WriteAsync(IBlobStore store, string jobId, JobRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(record, Json));
        await store.PutAsync(JobBlobNames.Record(jobId), content, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The record of <paramref name="jobId"/>, or null when there is none.</summary>
    public static async Task<JobRecord?> ReadAsync(IBlobStore store, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            await using var content = await store.OpenReadAsync(JobBlobNames.Record(jobId), cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<JobRecord>(content, Json, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Deletes the record of <paramref name="jobId"/> (none is fine).</summary>
    public static Task DeleteAsync(IBlobStore store, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.DeleteAsync(JobBlobNames.Record(jobId), cancellationToken);
    }

    /// <summary>The ids of the jobs that have a record, streamed from a prefix listing (one entry per job without a result).</summary>
    public static async IAsyncEnumerable<string> ListJobIdsAsync(IBlobStore store, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await foreach (var entry in store.ListAsync(JobBlobNames.RecordPrefix, cancellationToken).ConfigureAwait(false))
        {
            var name = entry.Name[JobBlobNames.RecordPrefix.Length..];
            if (name.EndsWith(".json", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal))
            {
                yield return name[..^".json".Length];
            }
        }
    }
}
