using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// Patch bags of this silo held in memory, least recently used first out, bounded in bytes. Unsupervised scores read the
/// same R+1 reference bags for every image of a job and an image grain reads its own bag again between embedding and
/// weighting; this keeps those reads off blob storage. Loads are single-flight: concurrent readers of one blob share one read.
/// </summary>
public sealed class PatchBagMemoryCache
{
    private readonly IBlobStore _store;
    private readonly long _capacityBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    /// <summary>A cache over <paramref name="store"/> holding at most <see cref="WorkerOptions.PatchBagMemoryBytes"/>.</summary>
    public PatchBagMemoryCache(IBlobStore store, IOptions<WorkerOptions> options)
    {
        _store = store;
        _capacityBytes = Math.Max(0, options.Value.PatchBagMemoryBytes);
    }

    /// <summary>Remembers a bag just computed or read, under its feature-cache blob name.</summary>
    public void Add(string blobName, PatchBag bag)
    {
        lock (_gate)
        {
            Insert(blobName, Task.FromResult(bag), SizeOf(bag));
        }
    }

    /// <summary>The bag stored at <paramref name="blobName"/>, from memory or read (and checked) from the blob store.</summary>
    /// <exception cref="BlobNotFoundException">The blob does not exist.</exception>
    /// <exception cref="FeatureCacheFormatException">The blob is not a valid patch bag.</exception>
    public Task<PatchBag> GetAsync(string blobName, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<PatchBag> load;
        lock (_gate)
        {
            if (_entries.TryGetValue(blobName, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Bag;
            }
            // Registered before the read starts, in the same lock as the lookup: concurrent readers share this one read.
            load = new TaskCompletionSource<PatchBag>(TaskCreationOptions.RunContinuationsAsynchronously);
            Insert(blobName, load.Task, size: 0);
        }
        _ = LoadAsync(blobName, load, cancellationToken);
        return load.Task;
    }

    private async Task LoadAsync(string blobName, TaskCompletionSource<PatchBag> load, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await _store.OpenReadAsync(blobName, cancellationToken).ConfigureAwait(false);
            var bag = await PatchBagFormat.ReadAsync(stream, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                // The entry may have been evicted or replaced meanwhile; only the load's own entry is resized.
                if (_entries.TryGetValue(blobName, out var node) && node.Value.Bag == load.Task)
                {
                    _bytes += SizeOf(bag) - node.Value.Size;
                    node.Value = node.Value with { Size = SizeOf(bag) };
                    Evict();
                }
            }
            load.SetResult(bag);
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                // A failed read is not cached: the next reader tries again.
                if (_entries.TryGetValue(blobName, out var node) && node.Value.Bag == load.Task)
                {
                    _entries.Remove(blobName);
                    _recency.Remove(node);
                    _bytes -= node.Value.Size;
                }
            }
            load.SetException(e);
        }
    }

    /// <summary>Adds or replaces an entry; the caller holds the lock.</summary>
    private void Insert(string blobName, Task<PatchBag> bag, long size)
    {
        if (_entries.Remove(blobName, out var old))
        {
            _recency.Remove(old);
            _bytes -= old.Value.Size;
        }
        _entries[blobName] = _recency.AddFirst(new Entry(blobName, bag, size));
        _bytes += size;
        Evict();
    }

    private void Evict()
    {
        while (_bytes > _capacityBytes && _recency.Last is { } last)
        {
            _recency.RemoveLast();
            _entries.Remove(last.Value.BlobName);
            _bytes -= last.Value.Size;
        }
    }

    private static long SizeOf(PatchBag bag) => (long)bag.Data.Length * sizeof(float);

    private sealed record Entry(string BlobName, Task<PatchBag> Bag, long Size);
}
