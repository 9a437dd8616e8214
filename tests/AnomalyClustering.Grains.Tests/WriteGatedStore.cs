using System.Collections.Concurrent;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A blob store whose writes of the blobs <paramref name="gated"/> picks wait for the test (<see cref="Release"/>), then land
/// whatever the writer's token says by then (they were in flight): a job is held at that write for as long as a test needs,
/// with <see cref="WriteArrived"/> as the readiness signal instead of a sleep. Deletes can be held likewise
/// (<see cref="HoldDeletes"/>, signalled by <see cref="DeleteArrived"/>) or failed (<see cref="FailDeletes"/>), and every
/// delete asked for is counted by name. Reads can be held as well (<see cref="HoldReads"/>, signalled by <see cref="ReadArrived"/>),
/// and the store can be away for the blobs under a prefix (<see cref="GoAway"/>, <see cref="ComeBack"/>).
/// </summary>
internal sealed class WriteGatedStore(IBlobStore inner, Func<string, bool> gated) : IBlobStore
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _deleteGate;
    private TaskCompletionSource? _readGate;
    private Func<string, bool> _heldReads = _ => false;
    private string _heldPrefix = "";
    private string _failingPrefix = "";
    private int _deleteFailures;
    private volatile string? _awayPrefix;

    /// <summary>Completed when the first gated write has reached the store.</summary>
    public TaskCompletionSource WriteArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed when the first held delete has reached the store.</summary>
    public TaskCompletionSource DeleteArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed when the first held read has reached the store.</summary>
    public TaskCompletionSource ReadArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many deletes were asked for, by blob name.</summary>
    public ConcurrentDictionary<string, int> Deletes { get; } = new(StringComparer.Ordinal);

    /// <summary>Lets every gated write go on, now and later.</summary>
    public void Release() => _release.TrySetResult();

    /// <summary>Makes every delete under <paramref name="prefix"/> from now on wait until <see cref="ReleaseDeletes"/> (or its caller's cancellation).</summary>
    public void HoldDeletes(string prefix)
    {
        _heldPrefix = prefix;
        _deleteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets held deletes go on, now and later.</summary>
    public void ReleaseDeletes() => _deleteGate?.TrySetResult();

    /// <summary>Makes every read of a blob <paramref name="held"/> picks from now on wait until <see cref="ReleaseReads"/> (or its caller's cancellation).</summary>
    public void HoldReads(Func<string, bool> held)
    {
        _readGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _heldReads = held;
    }

    /// <summary>Lets held reads go on, now and later.</summary>
    public void ReleaseReads() => _readGate?.TrySetResult();

    /// <summary>Makes the next <paramref name="count"/> deletes under <paramref name="prefix"/> fail as a store that is away does.</summary>
    public void FailDeletes(string prefix, int count)
    {
        _failingPrefix = prefix;
        Volatile.Write(ref _deleteFailures, count);
    }

    /// <summary>Makes every read and write of a blob under <paramref name="prefix"/> fail as a store that is away does, until <see cref="ComeBack"/>.</summary>
    public void GoAway(string prefix) => _awayPrefix = prefix;

    /// <summary>Ends <see cref="GoAway"/>.</summary>
    public void ComeBack() => _awayPrefix = null;

    private void ThrowIfAway(string name, string action)
    {
        if (_awayPrefix is { } away && name.StartsWith(away, StringComparison.Ordinal))
        {
            throw new BlobStoreUnavailableException($"Cannot {action} blob '{name}': the store cannot be reached (test).", name);
        }
    }

    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        ThrowIfAway(name, "write");
        if (gated(name))
        {
            WriteArrived.TrySetResult();
            await _release.Task;
            await inner.PutAsync(name, content, overwrite, CancellationToken.None);
            return;
        }
        await inner.PutAsync(name, content, overwrite, cancellationToken);
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        if (_readGate is { } gate && _heldReads(name))
        {
            ReadArrived.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }
        ThrowIfAway(name, "read");
        return await inner.OpenReadAsync(name, cancellationToken);
    }

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

    public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        Deletes.AddOrUpdate(name, 1, (_, count) => count + 1);
        if (_deleteGate is { } gate && name.StartsWith(_heldPrefix, StringComparison.Ordinal))
        {
            DeleteArrived.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }
        if (name.StartsWith(_failingPrefix, StringComparison.Ordinal) && Interlocked.Decrement(ref _deleteFailures) >= 0)
        {
            throw new IOException($"the store is away (deleting {name})");
        }
        return await inner.DeleteAsync(name, cancellationToken);
    }
}
