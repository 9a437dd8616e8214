using System.Collections.Concurrent;
using System.Diagnostics;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// A blob store that counts what passes through it by kind of blob (manifest, outcomes, shard embeddings, result, other),
/// and the deletes, and notes when the last manifest chunk was written, around the real store of the simulation.
/// </summary>
internal sealed class CountingBlobStore(IBlobStore inner) : IBlobStore
{
    private readonly ConcurrentDictionary<string, Traffic> _traffic = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastManifestWriteTicks;

    /// <summary>Time (on this store's clock) when a manifest chunk was last written.</summary>
    public TimeSpan LastManifestWrite => TimeSpan.FromTicks(Interlocked.Read(ref _lastManifestWriteTicks));

    /// <summary>This store's clock: time since it was made.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Traffic by kind of blob.</summary>
    public IReadOnlyDictionary<string, Traffic> ByKind => _traffic;

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        var bytes = content.CanSeek ? content.Length - content.Position : 0;
        await inner.PutAsync(name, content, overwrite, cancellationToken).ConfigureAwait(false);
        var kind = KindOf(name);
        _traffic.GetOrAdd(kind, _ => new Traffic()).AddWrite(bytes);
        if (kind == "manifest")
        {
            Interlocked.Exchange(ref _lastManifestWriteTicks, _clock.Elapsed.Ticks);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        var stream = await inner.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        _traffic.GetOrAdd(KindOf(name), _ => new Traffic()).AddRead(stream.CanSeek ? stream.Length : 0);
        return stream;
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        _traffic.GetOrAdd(KindOf(name), _ => new Traffic()).AddDelete();
        return inner.DeleteAsync(name, cancellationToken);
    }

    private static string KindOf(string name) =>
        name.Contains("/manifest-", StringComparison.Ordinal) ? "manifest"
        : name.Contains("/outcomes/", StringComparison.Ordinal) ? "outcomes"
        : name.Contains("/shards/", StringComparison.Ordinal) ? "shard embeddings"
        : name.EndsWith("/result.json", StringComparison.Ordinal) ? "result"
        : "other";

    /// <summary>Blobs and bytes written and read, and blobs deleted.</summary>
    internal sealed class Traffic
    {
        private long _writes;
        private long _writtenBytes;
        private long _reads;
        private long _readBytes;
        private long _deletes;

        public long Writes => Interlocked.Read(ref _writes);

        public long WrittenBytes => Interlocked.Read(ref _writtenBytes);

        public long Reads => Interlocked.Read(ref _reads);

        public long ReadBytes => Interlocked.Read(ref _readBytes);

        public long Deletes => Interlocked.Read(ref _deletes);

        public void AddDelete() => Interlocked.Increment(ref _deletes);

        public void AddWrite(long bytes)
        {
            Interlocked.Increment(ref _writes);
            Interlocked.Add(ref _writtenBytes, bytes);
        }

        public void AddRead(long bytes)
        {
            Interlocked.Increment(ref _reads);
            Interlocked.Add(ref _readBytes, bytes);
        }
    }
}
