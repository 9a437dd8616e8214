using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using Orleans.Storage;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// The embedded silo's job storage (<see cref="GrainStorageNames.Jobs"/>): coordinators and shards in files in the store
/// folder (<see cref="AtomicFileGrainStorage"/>), so that a killed run resumes (one process runs a job id at a time: <see cref="EmbeddedJobLock"/>); the job registry
/// in this process's memory. The registry is one grain (key 0) that every embedded silo on a store would write: two runs
/// on one store at once (two terminals, or the tests' parallel runs) wrote its one file concurrently and failed with
/// "the file storage record ... has an invalid format". The CLI lists kept jobs from their records (<see cref="StoredJob"/>), not from the registry.
/// </summary>
internal sealed class EmbeddedJobStorage(IGrainStorage files, IGrainStorage processMemory) : IGrainStorage
{
    /// <summary>The name the registry's in-memory storage is registered under.</summary>
    public const string RegistryName = "jobs-registry";

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        For(stateName).ReadStateAsync(stateName, grainId, grainState);

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        For(stateName).ReadStateAsync(stateName, grainId, grainState, cancellationToken);

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        For(stateName).WriteStateAsync(stateName, grainId, grainState);

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        For(stateName).WriteStateAsync(stateName, grainId, grainState, cancellationToken);

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        For(stateName).ClearStateAsync(stateName, grainId, grainState);

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        For(stateName).ClearStateAsync(stateName, grainId, grainState, cancellationToken);

    private IGrainStorage For(string stateName) => stateName == GrainStorageNames.RegistryState ? processMemory : files;
}
