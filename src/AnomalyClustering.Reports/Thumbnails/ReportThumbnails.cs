using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Images;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>How the page shows one image: the addresses of its thumbnail and heat map (data: URIs or links), or why it cannot.</summary>
/// <param name="Image">The thumbnail's address, or null when the image could not be read.</param>
/// <param name="Heat">The heat map's address, or null without an alpha map or image.</param>
/// <param name="Problem">Why there is no thumbnail, or null.</param>
public sealed record ThumbnailLinks(string? Image, string? Heat, string? Problem);

/// <summary>One image's thumbnail and heat map as JPEG bytes with their cache keys, or why there are none.</summary>
/// <param name="ImageKey">The thumbnail's cache key.</param>
/// <param name="Image">The thumbnail (JPEG).</param>
/// <param name="HeatKey">The heat map's cache key; null without an alpha map.</param>
/// <param name="Heat">The heat map (JPEG); null without an alpha map.</param>
/// <param name="Problem">Why the image could not be rendered (it does not decode), or null.</param>
public sealed record ThumbnailPictures(string? ImageKey, byte[]? Image, string? HeatKey, byte[]? Heat, string? Problem);

/// <summary>
/// Finds or makes the thumbnail and heat map of every image of a result: looks both up in the cache by content key (from
/// the SHA-256 the job recorded for the image, or else from the image's bytes), reads and renders what is missing, stores
/// it, and returns how the page addresses them (inline or by link).
/// </summary>
/// <remarks>
/// One cache look-up per image asked for; an image whose job recorded its hash is read only when its thumbnail is not
/// cached yet; O(pixels) per image rendered. Images run
/// <see cref="ReportOptions.MaxDegreeOfParallelism"/> at a time.
/// </remarks>
public static class ReportThumbnails
{
    /// <summary>The links of the images <paramref name="imageIndices"/> of <paramref name="result"/>, by image index (null for the others).</summary>
    public static async Task<ThumbnailLinks?[]> PrepareAsync(
        ClusteringResult result, IReadOnlyList<int> imageIndices, PreprocessingOptions? preprocessing, IReportImageSource images, IThumbnailCache cache,
        ReportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(imageIndices);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(options);
        var renderer = new ThumbnailRenderer(options.ThumbnailSize, preprocessing, options.JpegQuality);
        var inline = result.Images.Count <= options.InlineImageLimit;
        var hasGrid = result.PatchGridHeight > 0 && result.PatchGridWidth > 0;
        var links = new ThumbnailLinks?[result.Images.Count];
        await Parallel.ForEachAsync(
            imageIndices,
            new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var image = result.Images[i];
                var cells = result.PatchGridHeight * result.PatchGridWidth;
                var alpha = hasGrid && image.PatchWeights is { } weights && weights.Length == cells ? weights : null;
                if (hasGrid && alpha is null && await images.ReadAlphaMapAsync(image.Id, token).ConfigureAwait(false) is { } kept && kept.Length == cells)
                {
                    // A large result has no alpha maps of its own: the pictured images' come from where they are kept.
                    alpha = kept;
                }
                links[i] = await PrepareOneAsync(image, alpha, result.PatchGridHeight, result.PatchGridWidth, renderer, images, cache, inline, token).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return links;
    }

    private static async Task<ThumbnailLinks> PrepareOneAsync(
        ClusteredImage image, float[]? alpha, int gridHeight, int gridWidth, ThumbnailRenderer renderer, IReportImageSource images, IThumbnailCache cache, bool inline,
        CancellationToken cancellationToken)
    {
        var known = image.ContentSha256 is { } sha256 ? ThumbnailKeys.ContentHashOfSha256(sha256) : null;
        var pictures = known is null ? null : await TryCachedAsync(known, alpha, gridHeight, gridWidth, renderer, cache, cancellationToken).ConfigureAwait(false);
        if (pictures is null)
        {
            var encoded = await images.ReadAsync(image.Id, cancellationToken).ConfigureAwait(false);
            if (encoded is null)
            {
                return new ThumbnailLinks(null, null, "image file not found");
            }
            pictures = await GetOrRenderAsync(encoded, image.Id, alpha, gridHeight, gridWidth, renderer, cache, cancellationToken).ConfigureAwait(false);
        }
        if (pictures.Problem is { } problem)
        {
            return new ThumbnailLinks(null, null, problem);
        }
        return new ThumbnailLinks(
            Address(pictures.ImageKey!, pictures.Image!, cache, inline), pictures.HeatKey is null ? null : Address(pictures.HeatKey, pictures.Heat!, cache, inline), null);
    }

    /// <summary>
    /// The thumbnail and heat map (when <paramref name="alpha"/> is given) of the image whose content hash is
    /// <paramref name="contentHash"/> (<see cref="ThumbnailKeys.ContentHash"/>) when the cache holds both; null otherwise.
    /// Reads no image: what a server answers from when the job recorded the image's hash.
    /// </summary>
    public static async Task<ThumbnailPictures?> TryCachedAsync(
        string contentHash, float[]? alpha, int gridHeight, int gridWidth, ThumbnailRenderer renderer, IThumbnailCache cache, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contentHash);
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentNullException.ThrowIfNull(cache);
        var imageKey = ThumbnailKeys.Image(contentHash, renderer.Size, renderer.Preprocessing);
        var heatKey = alpha is null ? null : ThumbnailKeys.Heat(contentHash, renderer.Size, renderer.Preprocessing, alpha, gridHeight, gridWidth);
        if (await cache.TryGetAsync(imageKey, cancellationToken).ConfigureAwait(false) is not { } imageBytes)
        {
            return null;
        }
        byte[]? heatBytes = null;
        if (heatKey is not null && (heatBytes = await cache.TryGetAsync(heatKey, cancellationToken).ConfigureAwait(false)) is null)
        {
            return null;
        }
        return new ThumbnailPictures(imageKey, imageBytes, heatKey, heatBytes, null);
    }

    /// <summary>
    /// The thumbnail and heat map of one image (<paramref name="encoded"/>, its file's bytes) from the cache by content key,
    /// rendered and stored when missing: what a server answers when a page asks for one image beyond those it embeds.
    /// </summary>
    public static async Task<ThumbnailPictures> GetOrRenderAsync(
        byte[] encoded, string id, float[]? alpha, int gridHeight, int gridWidth, ThumbnailRenderer renderer, IThumbnailCache cache, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentNullException.ThrowIfNull(cache);
        var hash = ThumbnailKeys.ContentHash(encoded);
        var imageKey = ThumbnailKeys.Image(hash, renderer.Size, renderer.Preprocessing);
        var heatKey = alpha is null ? null : ThumbnailKeys.Heat(hash, renderer.Size, renderer.Preprocessing, alpha, gridHeight, gridWidth);
        var imageBytes = await cache.TryGetAsync(imageKey, cancellationToken).ConfigureAwait(false);
        var heatBytes = heatKey is null ? null : await cache.TryGetAsync(heatKey, cancellationToken).ConfigureAwait(false);
        if (imageBytes is null || (heatKey is not null && heatBytes is null))
        {
            RenderedThumbnail rendered;
            try
            {
                rendered = renderer.Render(encoded, id, alpha, gridHeight, gridWidth);
            }
            catch (ImageDecodeException e)
            {
                return new ThumbnailPictures(null, null, null, null, e.Message);
            }
            imageBytes = rendered.Image;
            heatBytes = rendered.Heat;
            await cache.PutAsync(imageKey, imageBytes, cancellationToken).ConfigureAwait(false);
            if (heatKey is not null)
            {
                await cache.PutAsync(heatKey, heatBytes!, cancellationToken).ConfigureAwait(false);
            }
        }
        return new ThumbnailPictures(imageKey, imageBytes, heatKey, heatKey is null ? null : heatBytes, null);
    }

    private static string Address(string key, byte[] jpeg, IThumbnailCache cache, bool inline) =>
        (inline ? null : cache.LinkFor(key)) ?? "data:image/jpeg;base64," + Convert.ToBase64String(jpeg);
}
