using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// The grain storage <c>jobs</c> of the scale simulation: states kept in memory as the bytes the Orleans serializer makes of
/// them (as a Redis or table provider would store them), so that every <c>WriteStateAsync</c> is counted in bytes per state
/// type. One <see cref="GrainStateRecords"/> is shared by every silo of the process.
/// </summary>
internal sealed class CountingGrainStorage(Serializer serializer, GrainStateRecords records) : IGrainStorage
{
    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (records.States.TryGetValue((stateName, grainId), out var stored))
        {
            grainState.State = serializer.Deserialize<T>(stored.Bytes);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var bytes = serializer.SerializeToArray(grainState.State);
        var etag = Interlocked.Increment(ref records.LastETag).ToString(System.Globalization.CultureInfo.InvariantCulture);
        records.States[(stateName, grainId)] = (bytes, etag);
        records.Writes.GetOrAdd(typeof(T).Name, _ => new StateWrites()).Add(bytes.Length);
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        records.States.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}

/// <summary>The stored states of <see cref="CountingGrainStorage"/> and the writes per state type.</summary>
internal sealed class GrainStateRecords
{
    /// <summary>Serialized state and ETag by (state name, grain).</summary>
    public ConcurrentDictionary<(string StateName, GrainId Grain), (byte[] Bytes, string ETag)> States { get; } = new();

    /// <summary>Writes by state type name.</summary>
    public ConcurrentDictionary<string, StateWrites> Writes { get; } = new();

    /// <summary>The last ETag handed out.</summary>
    public long LastETag;
}

/// <summary>Count, total, smallest and largest bytes of one state type's writes.</summary>
internal sealed class StateWrites
{
    private readonly Lock _gate = new();

    public long Count { get; private set; }

    public long TotalBytes { get; private set; }

    public int MinBytes { get; private set; } = int.MaxValue;

    public int MaxBytes { get; private set; }

    public void Add(int bytes)
    {
        lock (_gate)
        {
            Count++;
            TotalBytes += bytes;
            MinBytes = Math.Min(MinBytes, bytes);
            MaxBytes = Math.Max(MaxBytes, bytes);
        }
    }

    public override string ToString() =>
        $"{Count} writes, {MinBytes}-{MaxBytes} B each (mean {(Count == 0 ? 0 : TotalBytes / (double)Count):F0} B), {TotalBytes / 1024.0:F1} KiB in all";
}
