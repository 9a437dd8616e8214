using AnomalyClustering.Reports.Images;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Tests;

/// <summary>An image source with no images: the page shows placeholders (tests of what a page lists, not of pictures).</summary>
internal sealed class NoImages : IReportImageSource
{
    public Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);
}

/// <summary>A thumbnail cache that keeps nothing and links nothing.</summary>
internal sealed class NoThumbnails : IThumbnailCache
{
    public Task<byte[]?> TryGetAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);

    public Task PutAsync(string key, byte[] jpeg, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public string? LinkFor(string key) => null;
}
