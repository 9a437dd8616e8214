using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports;
using AnomalyClustering.Reports.Thumbnails;
using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// One clustered image's thumbnail or heat map, made when a page asks for it: the served report embeds the most typical
/// images of each cluster and fetches the thumbnails of further pages here, so that a page of any cluster at any N costs
/// the images it shows.
/// </summary>
/// <remarks>
/// A request reads the page index, the image's id bucket (about a page) and, for a heat map, its outcome blob. The id bucket
/// carries the SHA-256 the image grain recorded, which keys the thumbnail cache: a cached thumbnail is answered without
/// reading the image. Otherwise the manifest chunk and the image are read, and the rendering is cached for the next time.
/// </remarks>
public static class JobImageThumbnails
{
    /// <summary>Maps <c>GET /jobs/{jobId}/thumbnail</c> on the <c>/jobs</c> group.</summary>
    public static RouteGroupBuilder MapJobImageThumbnails(this RouteGroupBuilder jobs, string thumbnailPrefix)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        jobs.MapGet("/{jobId}/thumbnail", (string jobId, string? image, bool? heat, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken) =>
                ThumbnailAsync(jobId, image, heat ?? false, grains, http, store, thumbnailPrefix, cancellationToken))
            .WithName("GetJobImageThumbnail")
            .WithSummary("One clustered image's thumbnail (or, with heat=true, its alpha heat map), as JPEG")
            .WithDescription("Query `image` (the image id, required) and `heat` (default false). The served report loads the images of gallery pages beyond those it embeds from here.")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return jobs;
    }

    private static async Task<IResult> ThumbnailAsync(
        string jobId, string? imageId, bool heat, IGrainFactory grains, HttpContext http, IBlobStore store, string thumbnailPrefix, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(imageId))
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "Missing image", "give the image id as the query parameter 'image'.");
        }
        var status = JobApi.CompletedOrConflict(await JobApi.KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        var index = await JobResultPages.ReadIndexAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        var entry = await JobResultFiles.FindImageAsync(store, jobId, index, imageId, cancellationToken).ConfigureAwait(false)
            ?? throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown image",
                $"job '{jobId}' clustered no image '{imageId}'; GET /jobs/{jobId}/clusters/{{cluster}}/images lists them.");
        var summaryBytes = await store.ReadAllBytesAsync(status.ResultBlob!, cancellationToken: cancellationToken).ConfigureAwait(false);
        var summary = ResultSummary.Read(new MemoryStream(summaryBytes, writable: false));
        var source = ResultSummary.ReadSource(new MemoryStream(summaryBytes, writable: false));
        var alpha = heat && entry.ImageIndex is { } at && summary.PatchGridHeight > 0
            ? await JobResultFiles.ReadAlphaMapAsync(store, jobId, at, cancellationToken).ConfigureAwait(false)
            : null;
        if (heat && alpha is null)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "No heat map", $"image '{imageId}' of job '{jobId}' has no alpha map to draw.");
        }
        var options = new ReportOptions();
        var renderer = new ThumbnailRenderer(options.ThumbnailSize, source.Preprocessing, options.JpegQuality);
        var cache = new BlobThumbnailCache(store, thumbnailPrefix);
        var pictures = entry.ContentSha256 is { } sha256
            ? await ReportThumbnails.TryCachedAsync(ThumbnailKeys.ContentHashOfSha256(sha256), alpha, summary.PatchGridHeight, summary.PatchGridWidth, renderer, cache, cancellationToken)
                .ConfigureAwait(false)
            : null;
        if (pictures is null)
        {
            var blob = await BlobOfAsync(status, entry, grains, http, store, cancellationToken).ConfigureAwait(false);
            byte[] encoded;
            try
            {
                encoded = await store.ReadAllBytesAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (BlobNotFoundException)
            {
                throw new ApiProblemException(StatusCodes.Status404NotFound, "Image gone",
                    $"the file of image '{imageId}' ({blob}) is no longer in the store (deleted by a retention policy?).");
            }
            pictures = await ReportThumbnails.GetOrRenderAsync(
                encoded, imageId, alpha, summary.PatchGridHeight, summary.PatchGridWidth, renderer, cache, cancellationToken).ConfigureAwait(false);
        }
        if (pictures.Problem is { } problem)
        {
            throw new ApiProblemException(StatusCodes.Status422UnprocessableEntity, "Image does not decode", problem);
        }
        // The bytes of an image id in a completed job do not change; the job may be deleted, so not "immutable".
        http.Response.Headers.CacheControl = "private, max-age=86400";
        return Results.Bytes(heat ? pictures.Heat! : pictures.Image!, "image/jpeg");
    }

    // The image's blob: from its manifest chunk (one small read), or the recovered job's prefix plus its id.
    private static async Task<string> BlobOfAsync(
        JobStatus status, ResultImageEntry entry, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        if (JobApi.IsRecovered(http) || entry.ImageIndex is not { } imageIndex
            || await grains.GetGrain<IClusteringJobGrain>(status.JobId).GetManifest().ConfigureAwait(false) is not { } manifest)
        {
            return status.Source + entry.Id;
        }
        var chunk = await JobManifestStore.ReadImageChunkAsync(store, manifest, imageIndex / manifest.ChunkSize, cancellationToken).ConfigureAwait(false);
        return chunk[imageIndex % manifest.ChunkSize].BlobName;
    }
}
