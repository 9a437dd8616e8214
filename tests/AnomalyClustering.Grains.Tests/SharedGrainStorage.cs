using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Grain state outside every silo of an in-process cluster, as Redis is outside a real one: it survives a killed silo,
/// unlike Orleans' memory storage, whose storage grains die with their silo. States are deep copies, with ETags.
/// </summary>
internal sealed class SharedGrainStorage(ConcurrentDictionary<string, (object State, string ETag)> states, DeepCopier copier) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (states.TryGetValue(Key(stateName, grainId), out var stored))
        {
            grainState.State = copier.Copy((T)stored.State);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var etag = Guid.NewGuid().ToString("n");
        states.AddOrUpdate(
            key,
            _ => ((object)copier.Copy(grainState.State)!, etag),
            (_, current) => current.ETag == grainState.ETag
                ? ((object)copier.Copy(grainState.State)!, etag)
                : throw new InconsistentStateException($"{key}: stored ETag {current.ETag}, written {grainState.ETag}"));
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        states.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}
