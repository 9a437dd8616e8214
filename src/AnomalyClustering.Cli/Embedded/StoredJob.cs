using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// A job that a run of the embedded CLI left in its store folder. Finished runs delete their jobs, so a job found there was
/// either kept by an interrupted run, for the same command to resume, or is running now in another process. A server's jobs
/// are not among them, although those a CLI sent with <c>cluster --server</c> have ids of the same prefix: a one-node server
/// over the folder kept its coordinators' state in its own state folder (<see cref="ClusterHostingOptions.StateFolderOf"/>),
/// which embedded runs never write, and a job whose coordinator has state there is the server's.
/// </summary>
/// <param name="Id">The job id (<see cref="EmbeddedJobIdentity"/>).</param>
/// <param name="Record">What was submitted and when; null when the run stopped during the upload, before it submitted the job.</param>
/// <param name="Uploads">Images uploaded for it.</param>
/// <param name="ImagesDone">
/// Images embedded and weighed as the job's coordinator recorded them: the figure a resumed run starts from (its "N of M
/// images were done"); 0 when it recorded none.
/// </param>
/// <param name="Bytes">Bytes of its uploads and of everything the job wrote.</param>
/// <param name="RunningElsewhere">Whether another process holds its lock, i.e. runs it now.</param>
internal sealed record StoredJob(string Id, JobRecordStore.JobRecord? Record, int Uploads, int ImagesDone, long Bytes, bool RunningElsewhere)
{
    /// <summary>
    /// The jobs of <paramref name="storeFolder"/> (whose blob store is <paramref name="store"/>), oldest first: one listing of the
    /// CLI's upload and job prefixes, one read per job record and per coordinator state, and a look at each job's lock (taken
    /// and released at once). Jobs a server made or took over there are left out (<see cref="IsAServersJobAsync"/>).
    /// </summary>
    public static async Task<IReadOnlyList<StoredJob>> ListAsync(IBlobStore store, string storeFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var found = new Dictionary<string, (int Uploads, long Bytes)>(StringComparer.Ordinal);
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
                var (uploads, bytes) = found.GetValueOrDefault(id);
                found[id] = (uploads + (root == JobBlobNames.UploadsRoot ? 1 : 0), bytes + blob.Size);
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
        // Not the outcome blobs: images in flight when a run stopped write theirs after the last checkpoint, and the resume
        // does them again. The coordinator's stored state is what the resume starts from.
        var serializer = found.Count == 0 ? null : new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var grainState = serializer is null ? null : new AtomicFileGrainStorage(EmbeddedCluster.GrainStateFolderOf(storeFolder), serializer);
        var serverState = serializer is null ? null : new AtomicFileGrainStorage(ClusterHostingOptions.StateFolderOf(storeFolder), serializer);
        foreach (var (id, (uploads, bytes)) in found)
        {
            if (await IsAServersJobAsync(serverState!, id, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }
            var record = await JobRecordStore.ReadAsync(store, id, cancellationToken).ConfigureAwait(false);
            var imagesDone = await ReadImagesDoneAsync(grainState!, id, cancellationToken).ConfigureAwait(false);
            bool runningElsewhere;
            using (var jobLock = EmbeddedJobLock.TryTake(storeFolder, id))
            {
                runningElsewhere = jobLock is null;
            }
            jobs.Add(new StoredJob(id, record, uploads, imagesDone, bytes, runningElsewhere));
        }
        return [.. jobs.OrderBy(job => job.Record?.CreatedAt ?? DateTimeOffset.MaxValue).ThenBy(job => job.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Whether job <paramref name="id"/> is a server's: its coordinator has state in the state folder of a one-node server
    /// that used the store folder (a job it was sent, or a kept CLI job it resumed and now lists as its own). The server
    /// clears that state last, after the job's blobs, so a job it lists keeps it; an embedded run never writes there.
    /// </summary>
    private static async Task<bool> IsAServersJobAsync(AtomicFileGrainStorage serverState, string id, CancellationToken cancellationToken) =>
        // A state file there that this version cannot read (damaged, another format) is still the server's: a job that is not
        // the CLI's to drop.
        await ReadCoordinatorStateAsync(serverState, id, cancellationToken).ConfigureAwait(false) is not { } state || state.RecordExists;

    /// <summary>The images done by job <paramref name="id"/> as its coordinator's stored state records them; 0 when there is none.</summary>
    private static async Task<int> ReadImagesDoneAsync(AtomicFileGrainStorage grainState, string id, CancellationToken cancellationToken) =>
        // A state file this version cannot read: the list still shows the job and its space, which is what 'store drop'
        // needs; no images count as done.
        await ReadCoordinatorStateAsync(grainState, id, cancellationToken).ConfigureAwait(false) is { RecordExists: true, State: { } recorded }
            ? recorded.WeightedImages()
            : 0;

    /// <summary>Job <paramref name="id"/>'s coordinator state in <paramref name="storage"/>; null when the file there cannot be read.</summary>
    private static async Task<GrainState<JobCoordinatorState>?> ReadCoordinatorStateAsync(AtomicFileGrainStorage storage, string id, CancellationToken cancellationToken)
    {
        var state = new GrainState<JobCoordinatorState>();
        try
        {
            await storage.ReadStateAsync(JobCoordinatorState.StateName, GrainId.Create(JobCoordinatorState.GrainTypeName, id), state, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
        return state;
    }
}
