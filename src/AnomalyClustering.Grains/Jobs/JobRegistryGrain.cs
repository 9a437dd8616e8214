using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>The list of job ids with their submission times, persisted in the job storage. O(jobs) per listing.</summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed class JobRegistryGrain(
    [PersistentState("registry", GrainStorageNames.Jobs)] IPersistentState<JobRegistryState> state) : Grain, IJobRegistryGrain
{
    public async Task Register(string jobId, DateTimeOffset createdAt)
    {
        if (state.State.Jobs.TryAdd(jobId, createdAt))
        {
            await state.WriteStateAsync().ConfigureAwait(true);
        }
    }

    public Task<IReadOnlyList<string>> List(int limit) =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Jobs.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, limit)).Select(pair => pair.Key).ToArray());
}

/// <summary>The persisted job list.</summary>
[GenerateSerializer, Alias("AnomalyClustering.JobRegistryState")]
public sealed class JobRegistryState
{
    /// <summary>Job id to submission time.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Jobs { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Names of the grain storage providers the grains use.</summary>
public static class GrainStorageNames
{
    /// <summary>Job coordinators' state and the job registry.</summary>
    public const string Jobs = "jobs";
}
