using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The jobs the cluster knows with the status each reported at its last state change, persisted in the job storage, so
/// that a listing reads one grain instead of activating a coordinator per job. Pruned to
/// <see cref="CoordinatorOptions.ListedFinishedJobs"/> finished jobs (see <see cref="JobRegistryState.Record"/>).
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed class JobRegistryGrain(
    [PersistentState(GrainStorageNames.RegistryState, GrainStorageNames.Jobs)] IPersistentState<JobRegistryState> state,
    IOptions<CoordinatorOptions> options) : Grain, IJobRegistryGrain
{
    public async Task Record(JobStatus status)
    {
        if (state.State.Record(status, options.Value.ListedFinishedJobs))
        {
            await WriteAsync().ConfigureAwait(true);
        }
    }

    public Task<IReadOnlyList<JobStatus>> List(int offset, int limit) => Task.FromResult(state.State.Page(offset, limit));

    public Task<IReadOnlyList<JobStatus>> ListVisibleTo(string? tenant, int offset, int limit) =>
        Task.FromResult(state.State.Page(offset, limit, job => job.IsVisibleTo(tenant)));

    public async Task Remove(string jobId)
    {
        if (state.State.Remove(jobId))
        {
            await WriteAsync().ConfigureAwait(true);
        }
    }

    /// <summary>
    /// Writes the list. A refused ETag means the stored list is not the one this activation read: Redis restarted without
    /// its data (the record is gone), or a write whose answer was lost landed. This activation is the registry's only
    /// writer and holds every change so far, so it takes the stored ETag and writes its own list again; without this
    /// every later submission would fail to be listed until the silo restarted.
    /// </summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync().ConfigureAwait(true);
        }
        catch (InconsistentStateException)
        {
            var held = state.State;
            await state.ReadStateAsync().ConfigureAwait(true);
            state.State = held;
            await state.WriteStateAsync().ConfigureAwait(true);
        }
    }

    public Task<IReadOnlyList<string>> FinishedBefore(DateTimeOffset finishedBefore, int limit) =>
        Task.FromResult(state.State.FinishedBefore(finishedBefore, limit));

    public async Task MarkDeleted(string jobId, DateTimeOffset deletionStartedAt)
    {
        if (state.State.MarkDeleted(jobId, deletionStartedAt))
        {
            await WriteAsync().ConfigureAwait(true);
        }
    }

    public Task<IReadOnlyList<string>> DeletedBefore(DateTimeOffset deletedBefore, int limit) =>
        Task.FromResult(state.State.DeletedBefore(deletedBefore, limit));

    public Task<bool> IsMarkedDeleted(string jobId) => Task.FromResult(state.State.Deleted.ContainsKey(jobId));

    public async Task ForgetDeleted(string jobId)
    {
        if (state.State.Deleted.Remove(jobId))
        {
            await WriteAsync().ConfigureAwait(true);
        }
    }
}

/// <summary>A deleted job's mark in the registry: when its deletion started, and when the job was created (null: not known).</summary>
[GenerateSerializer, Alias("AnomalyClustering.DeletedJobMark")]
public sealed record DeletedJobMark([property: Id(0)] DateTimeOffset DeletionStartedAt, [property: Id(1)] DateTimeOffset? CreatedAt);

/// <summary>The persisted job list: every listed job's submission time and last reported status.</summary>
[GenerateSerializer, Alias("AnomalyClustering.JobRegistryState")]
public sealed class JobRegistryState
{
    /// <summary>Job id to submission time: every listed job.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Jobs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Job id to the status its coordinator reported at its last state change.</summary>
    [Id(1)] public Dictionary<string, JobStatus> Statuses { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Job id to the time of its last state change, of finished jobs pruned from the list: retention still has to find
    /// them (their blobs stay until it deletes them). Kept until the job is deleted, so it holds at most the jobs that
    /// finished within the retention time.
    /// </summary>
    [Id(2)] public Dictionary<string, DateTimeOffset> UnlistedFinished { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Job id to its deletion time, of deleted jobs whose outcome blobs retention has not yet swept a second time (an image
    /// call that outlived the deletion's stop grace can still write one). Holds the jobs deleted within
    /// <c>JobRetentionOptions.DeletedJobRecheckDelay</c> and one sweep interval.
    /// </summary>
    [Id(3)] public Dictionary<string, DeletedJobMark> Deleted { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Records <paramref name="status"/> (registering its job), then prunes: of the finished jobs only the
    /// <paramref name="keepFinished"/> newest stay listed (their state and results stay; <c>GET /jobs/{id}</c> finds them).
    /// Running jobs are never pruned. A status older than the recorded one, or any after a finished one, is ignored.
    /// Returns false when nothing changed. O(J log J) for J listed jobs.
    /// </summary>
    public bool Record(JobStatus status, int keepFinished)
    {
        ArgumentNullException.ThrowIfNull(status);
        // The reentrant coordinator's Record calls can arrive out of order: an older status (or any after the job finished,
        // which is final) must not replace a newer one, or a finished job would be listed as running for good.
        if (Statuses.TryGetValue(status.JobId, out var previous)
            && (previous.State.IsFinished() || previous.UpdatedAt > status.UpdatedAt || (previous.State == status.State && previous.UpdatedAt >= status.UpdatedAt)))
        {
            return false;
        }
        // A pruned job finished too: nothing it reports late changes it.
        if (UnlistedFinished.ContainsKey(status.JobId))
        {
            return false;
        }
        // A deleted job's late report is ignored (it would list the job again); a new job with the same id clears the mark:
        // the prefix is its own now. A report is the deleted job's when it has that job's creation time; without one, when
        // it was created before the deletion started, less an allowance for the silos' clocks (CreatedAt is the
        // coordinator's clock): at worst a late report lists a deleted job again, never are a new job's outcomes swept.
        if (Deleted.TryGetValue(status.JobId, out var mark))
        {
            var sameJob = mark.CreatedAt is { } created ? status.CreatedAt == created : status.CreatedAt <= mark.DeletionStartedAt - ClockSkewAllowance;
            if (sameJob)
            {
                return false;
            }
            Deleted.Remove(status.JobId);
        }
        Statuses[status.JobId] = status;
        Jobs.TryAdd(status.JobId, status.CreatedAt);
        var dropped = Statuses.Values.Where(listed => listed.State.IsFinished()).OrderBy(listed => listed, NewestFirst)
            .Skip(Math.Max(0, keepFinished)).Select(listed => listed.JobId).ToArray();
        foreach (var jobId in dropped)
        {
            UnlistedFinished[jobId] = Statuses[jobId].UpdatedAt;
            Statuses.Remove(jobId);
            Jobs.Remove(jobId);
        }
        return true;
    }

    /// <summary>Forgets <paramref name="jobId"/>, listed or not; false when it was not known. O(1).</summary>
    public bool Remove(string jobId)
    {
        var removed = Jobs.Remove(jobId);
        removed |= Statuses.Remove(jobId);
        removed |= UnlistedFinished.Remove(jobId);
        return removed;
    }

    /// <summary>How far apart the silos' clocks may be when a report is told from a new job's (see <see cref="Record"/>).</summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Forgets a deleted job as <see cref="Remove"/> does and marks it deleted as of <paramref name="deletionStartedAt"/>,
    /// with its creation time when known; false (nothing changed) when the job recorded now was created after the deletion
    /// started: a new job took the id while the deletion ran. O(1).
    /// </summary>
    public bool MarkDeleted(string jobId, DateTimeOffset deletionStartedAt)
    {
        DateTimeOffset? createdAt = Statuses.TryGetValue(jobId, out var status) ? status.CreatedAt : Jobs.TryGetValue(jobId, out var submitted) ? submitted : null;
        if (createdAt > deletionStartedAt)
        {
            return false;
        }
        Remove(jobId);
        Deleted[jobId] = new DeletedJobMark(deletionStartedAt, createdAt);
        return true;
    }

    /// <summary>Up to <paramref name="limit"/> ids of jobs marked deleted before <paramref name="deletedBefore"/>, oldest first. O(D log D).</summary>
    public IReadOnlyList<string> DeletedBefore(DateTimeOffset deletedBefore, int limit) =>
        Deleted.Where(pair => pair.Value.DeletionStartedAt < deletedBefore).OrderBy(pair => pair.Value.DeletionStartedAt).ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, limit)).Select(pair => pair.Key).ToArray();

    /// <summary>
    /// Up to <paramref name="limit"/> ids of finished jobs, listed or pruned, whose last state change was before
    /// <paramref name="finishedBefore"/>, oldest first. O(J log J) for J known jobs.
    /// </summary>
    public IReadOnlyList<string> FinishedBefore(DateTimeOffset finishedBefore, int limit) =>
        Statuses.Values.Where(status => status.State.IsFinished()).Select(status => (status.JobId, status.UpdatedAt))
            .Concat(UnlistedFinished.Select(pair => (JobId: pair.Key, UpdatedAt: pair.Value)))
            .Where(job => job.UpdatedAt < finishedBefore)
            .OrderBy(job => job.UpdatedAt).ThenBy(job => job.JobId, StringComparer.Ordinal)
            .Take(Math.Max(0, limit)).Select(job => job.JobId).ToArray();

    /// <summary>
    /// Up to <paramref name="limit"/> jobs after the first <paramref name="offset"/>, newest first. A job registered before
    /// statuses were kept has only its id and submission time (state <see cref="JobState.Unknown"/>: ask its coordinator).
    /// O(J log J).
    /// </summary>
    public IReadOnlyList<JobStatus> Page(int offset, int limit) => Page(offset, limit, _ => true);

    /// <summary>
    /// Like <see cref="Page(int, int)"/>, of the jobs <paramref name="listed"/> accepts (offset and limit count only those). A job
    /// registered before statuses were kept predates tenancy: it has no tenant.
    /// </summary>
    public IReadOnlyList<JobStatus> Page(int offset, int limit, Func<JobStatus, bool> listed) =>
        Jobs.Select(pair => Statuses.GetValueOrDefault(pair.Key) ?? new JobStatus { JobId = pair.Key, CreatedAt = pair.Value })
            .Where(listed)
            .OrderBy(listed => listed, NewestFirst).Skip(Math.Max(0, offset)).Take(Math.Max(0, limit)).ToArray();

    private static readonly Comparer<JobStatus> NewestFirst = Comparer<JobStatus>.Create((a, b) =>
    {
        var byTime = b.CreatedAt.CompareTo(a.CreatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.JobId, b.JobId);
    });
}

/// <summary>Names of the grain storage providers the grains use.</summary>
public static class GrainStorageNames
{
    /// <summary>Job coordinators' state and the job registry.</summary>
    public const string Jobs = "jobs";

    /// <summary>The state name of the job registry (one grain, key 0) in <see cref="Jobs"/>.</summary>
    public const string RegistryState = "registry";

    /// <summary>Orleans' stream pub-sub (the producers and subscriptions of streams such as the line intake); the name Orleans looks for.</summary>
    public const string StreamPubSub = "PubSubStore";
}
