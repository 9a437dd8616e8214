using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// A job that a run of the embedded CLI left in its store folder. Finished runs delete their jobs, so a job found there was
/// either kept by an interrupted run, for the same command to resume, or is running now in another process.
/// </summary>
/// <param name="Id">The job id (<see cref="EmbeddedJobIdentity"/>).</param>
/// <param name="Record">What was submitted and when; null when the run stopped during the upload, before it submitted the job.</param>
/// <param name="Uploads">Images uploaded for it.</param>
/// <param name="Outcomes">Images it embedded and weighed (one outcome blob each).</param>
/// <param name="Bytes">Bytes of its uploads and of everything the job wrote.</param>
/// <param name="RunningElsewhere">Whether another process holds its lock, i.e. runs it now.</param>
internal sealed record StoredJob(string Id, JobRecordStore.JobRecord? Record, int Uploads, int Outcomes, long Bytes, bool RunningElsewhere)
{
    /// <summary>
    /// The jobs of <paramref name="storeFolder"/> (whose blob store is <paramref name="store"/>), oldest first: one listing of the
    /// CLI's upload and job prefixes, one read per job record, and a look at each job's lock (taken and released at once).
    /// </summary>
    public static async Task<IReadOnlyList<StoredJob>> ListAsync(IBlobStore store, string storeFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var found = new Dictionary<string, (int Uploads, int Outcomes, long Bytes)>(StringComparer.Ordinal);
        foreach (var root in new[] { JobBlobNames.UploadsRoot, JobBlobNames.JobsRoot })
        {
            await foreach (var blob in store.ListAsync(root + EmbeddedJobIdentity.Prefix, cancellationToken).ConfigureAwait(false))
            {
                var end = blob.Name.IndexOf('/', root.Length);
                if (end < 0)
                {
                    continue;
                }
                var id = blob.Name[root.Length..end];
                var (uploads, outcomes, bytes) = found.GetValueOrDefault(id);
                found[id] = root == JobBlobNames.UploadsRoot
                    ? (uploads + 1, outcomes, bytes + blob.Size)
                    : (uploads, outcomes + (blob.Name.StartsWith(JobBlobNames.OutcomesPrefix(id), StringComparison.Ordinal) ? 1 : 0), bytes + blob.Size);
            }
        }
        await foreach (var id in JobRecordStore.ListJobIdsAsync(store, cancellationToken).ConfigureAwait(false))
        {
            if (id.StartsWith(EmbeddedJobIdentity.Prefix, StringComparison.Ordinal))
            {
                found.TryAdd(id, default);
            }
        }
        var jobs = new List<StoredJob>(found.Count);
        foreach (var (id, (uploads, outcomes, bytes)) in found)
        {
            var record = await JobRecordStore.ReadAsync(store, id, cancellationToken).ConfigureAwait(false);
            bool runningElsewhere;
            using (var jobLock = EmbeddedJobLock.TryTake(storeFolder, id))
            {
                runningElsewhere = jobLock is null;
            }
            jobs.Add(new StoredJob(id, record, uploads, outcomes, bytes, runningElsewhere));
        }
        return [.. jobs.OrderBy(job => job.Record?.CreatedAt ?? DateTimeOffset.MaxValue).ThenBy(job => job.Id, StringComparer.Ordinal)];
    }
}
