using System.Collections.Concurrent;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A blob store whose reads of blobs with <see cref="GateMarker"/> in their name wait until the test releases their prefix:
/// a job over such an image is held in its embedding stage for as long as the test needs (no sleeps, no races). It also
/// counts the reads of every blob, so that a test can say what a request read. Deletes under a prefix can be held too
/// (<see cref="HoldDeletes"/>): a job's deletion is held in its coordinator. Writes of one blob can be held
/// (<see cref="HoldWrites"/>) or failed (<see cref="FailWrites"/>): two requests that write it meet there in the order a test sets.
/// </summary>
public sealed class GatedBlobStore(IBlobStore inner) : IBlobStore
{
    /// <summary>Blob names containing this wait for their gate.</summary>
    public const string GateMarker = "gated-";

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _released = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _reads = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldDeletes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _deletesWaiting = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldWrites = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _writesWaiting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failingWrites = new(StringComparer.Ordinal);

    /// <summary>Makes writes of blob <paramref name="name"/> wait until <see cref="ReleaseWrites"/> (or their caller's cancellation).</summary>
    public void HoldWrites(string name) => _heldWrites.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets the writes of blob <paramref name="name"/> go on, now and later.</summary>
    public void ReleaseWrites(string name)
    {
        if (_heldWrites.TryRemove(name, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>True while a held write of blob <paramref name="name"/> waits.</summary>
    public bool IsWriteWaiting(string name) => _writesWaiting.GetValueOrDefault(name) > 0;

    /// <summary>Makes the writes of blob <paramref name="name"/> that arrive from now on fail as a store that is away does (<paramref name="failing"/> false: no more).</summary>
    public void FailWrites(string name, bool failing = true)
    {
        if (failing)
        {
            _failingWrites[name] = true;
        }
        else
        {
            _failingWrites.TryRemove(name, out _);
        }
    }

    /// <summary>Makes deletes of blobs under <paramref name="prefix"/> wait until <see cref="ReleaseDeletes"/> (or their caller's cancellation).</summary>
    public void HoldDeletes(string prefix) => _heldDeletes.GetOrAdd(prefix, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets the deletes under <paramref name="prefix"/> go on, now and later.</summary>
    public void ReleaseDeletes(string prefix)
    {
        if (_heldDeletes.TryRemove(prefix, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>True while a held delete of a blob under <paramref name="prefix"/> waits.</summary>
    public bool IsDeleteWaiting(string prefix) => _deletesWaiting.Any(pair => pair.Value > 0 && pair.Key.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>How many reads were opened of blobs whose names start with <paramref name="prefix"/>, so far.</summary>
    public int ReadsUnder(string prefix) => _reads.Count(name => name.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Lets reads of every gated blob under <paramref name="prefix"/> go on, now and later.</summary>
    public void Release(string prefix)
    {
        _released[prefix] = true;
        foreach (var (name, gate) in _waiting)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                gate.TrySetResult();
            }
        }
    }

    /// <summary>Opens every gate, of reads and of deletes.</summary>
    public void ReleaseAll()
    {
        Release("");
        foreach (var prefix in _heldDeletes.Keys)
        {
            ReleaseDeletes(prefix);
        }
    }

    /// <summary>True while a read of a gated blob under <paramref name="prefix"/> waits.</summary>
    public bool IsWaiting(string prefix) => _waiting.Any(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal) && !pair.Value.Task.IsCompleted);

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        if (_failingWrites.ContainsKey(name))
        {
            throw new BlobStoreUnavailableException($"the store is away (writing {name})", name, new IOException("test fault"));
        }
        if (_heldWrites.TryGetValue(name, out var gate))
        {
            _writesWaiting.AddOrUpdate(name, 1, (_, count) => count + 1);
            try
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                _writesWaiting.AddOrUpdate(name, 0, (_, count) => count - 1);
            }
        }
        await inner.PutAsync(name, content, overwrite, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        _reads.Enqueue(name);
        if (name.Contains(GateMarker, StringComparison.Ordinal))
        {
            // Registered before the released check, so a Release between the two cannot be missed.
            var gate = _waiting.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (_released.Keys.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                gate.TrySetResult();
            }
            await gate.Task.WaitAsync(cancellationToken);
        }
        return await inner.OpenReadAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach (var (prefix, gate) in _heldDeletes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                _deletesWaiting.AddOrUpdate(name, 1, (_, count) => count + 1);
                try
                {
                    await gate.Task.WaitAsync(cancellationToken);
                }
                finally
                {
                    _deletesWaiting.AddOrUpdate(name, 0, (_, count) => count - 1);
                }
            }
        }
        return await inner.DeleteAsync(name, cancellationToken);
    }
}
