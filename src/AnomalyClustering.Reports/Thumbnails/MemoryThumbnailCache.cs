using System.Collections.Concurrent;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>Thumbnails kept in memory for the life of the object and always inlined: for one-off reports that keep no files.</summary>
public sealed class MemoryThumbnailCache : IThumbnailCache
{
    private readonly ConcurrentDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);

    /// <summary>Entries stored so far.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public Task<byte[]?> TryGetAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_entries.TryGetValue(ThumbnailKeys.Check(key), out var jpeg) ? jpeg : null);

    /// <inheritdoc />
    public Task PutAsync(string key, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        _entries[ThumbnailKeys.Check(key)] = jpeg;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public string? LinkFor(string key) => null;
}
