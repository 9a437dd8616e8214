using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>One image of a cluster page: its id, label and distance to the cluster's centroid.</summary>
/// <param name="Id">The image id.</param>
/// <param name="Label">Ground-truth label, or null.</param>
/// <param name="DistanceToCentre">Euclidean distance of x_i to the cluster's centroid; null when the result has no embeddings.</param>
/// <param name="AnomalyScore">The image's anomaly score (its largest patch score); null for precomputed embeddings.</param>
public sealed record ClusterImage(string Id, string? Label, double? DistanceToCentre, double? AnomalyScore = null);

/// <summary>A page of a cluster's images, nearest to the centroid first.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Total">Images in the cluster.</param>
/// <param name="Offset">Index of the page's first image.</param>
/// <param name="Images">At most the requested number of images.</param>
public sealed record ClusterImagePage(string JobId, int Cluster, int Total, int Offset, IReadOnlyList<ClusterImage> Images);

/// <summary>One clustered image with its alpha map.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Id">The image id.</param>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Label">Ground-truth label, or null.</param>
/// <param name="GridHeight">Rows of the alpha grid; 0 without alpha maps.</param>
/// <param name="GridWidth">Columns of the alpha grid.</param>
/// <param name="Alpha">The patch weights, row-major on the grid (sum 1); null for precomputed embeddings.</param>
/// <param name="AnomalyScore">The image's anomaly score (its largest patch score); null for precomputed embeddings.</param>
/// <param name="AnomalyThreshold">The job's label-free detection threshold, when it had normal images to set one.</param>
public sealed record JobImageDetail(
    string JobId, string Id, int Cluster, string? Label, int GridHeight, int GridWidth, IReadOnlyList<float>? Alpha,
    double? AnomalyScore = null, double? AnomalyThreshold = null);

/// <summary>A page of the images a completed job could not use.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Total">Unusable images in all.</param>
/// <param name="Offset">Index of the page's first error.</param>
/// <param name="Errors">At most the requested number of errors, in the result's order.</param>
public sealed record ResultErrorPage(string JobId, int Total, int Offset, IReadOnlyList<ImageError> Errors);

/// <summary>
/// The endpoints that page what grows with N in a completed job's result: a cluster's images (nearest to the centroid
/// first), one image's alpha map, the unusable images. A client fetches what it shows instead of the whole result.
/// </summary>
/// <remarks>
/// Each request reads the result's page index and the one or two pages it answers from (<see cref="JobResultFiles"/>):
/// O(limit) whatever N is. One image is found by reading its id bucket, about a page.
/// </remarks>
public static class JobResultPages
{
    /// <summary>Maps the paged endpoints on the <c>/jobs</c> group.</summary>
    public static RouteGroupBuilder MapJobResultPages(this RouteGroupBuilder jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        jobs.MapGet("/{jobId}/clusters/{cluster:int}/images", ClusterImagesAsync)
            .WithName("GetJobClusterImages")
            .WithSummary("A page of a cluster's images, nearest to the cluster's centroid first")
            .WithDescription("Query `offset` (default 0) and `limit` (1 to 1000, default 100). The first image is the cluster's most typical one.")
            .Produces<ClusterImagePage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapGet("/{jobId}/images/{**imageId}", ImageAsync)
            .WithName("GetJobImage")
            .WithSummary("One clustered image: its cluster, label, alpha map and anomaly score")
            .Produces<JobImageDetail>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapGet("/{jobId}/result/errors", ErrorPageAsync)
            .WithName("GetJobResultErrors")
            .WithSummary("A page of the images a completed job could not use, and why")
            .WithDescription("Query `offset` (default 0) and `limit` (1 to 1000, default 100).")
            .Produces<ResultErrorPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return jobs;
    }

    private static async Task<IResult> ClusterImagesAsync(
        string jobId, int cluster, int? offset, int? limit, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var (skip, take) = ApiPage.Check(offset, limit);
        var index = await ReadIndexAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        if (cluster < 0 || cluster >= index.ClusterSizes.Count)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown cluster",
                $"job '{jobId}' has clusters 0 to {index.ClusterSizes.Count - 1}; there is no cluster {cluster}.");
        }
        var rows = await JobResultFiles.ReadClusterImagesAsync(store, jobId, index, cluster, skip, take, cancellationToken).ConfigureAwait(false);
        var page = rows.Select(row => new ClusterImage(row.Id, row.Label, row.DistanceToCentre, row.AnomalyScore)).ToList();
        return Results.Ok(new ClusterImagePage(jobId, cluster, index.ClusterSizes[cluster], skip, page));
    }

    private static async Task<IResult> ImageAsync(string jobId, string imageId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var index = await ReadIndexAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        var image = await JobResultFiles.FindImageAsync(store, jobId, index, imageId, cancellationToken).ConfigureAwait(false)
            ?? throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown image",
                $"job '{jobId}' clustered no image '{imageId}'; GET /jobs/{jobId}/clusters/{{cluster}}/images lists them.");
        var status = JobApi.CompletedOrConflict(await JobApi.KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        var summary = await JobApi.ReadSummaryAsync(store, status, cancellationToken).ConfigureAwait(false);
        var alpha = image.ImageIndex is { } at && summary.PatchGridHeight > 0
            ? await JobResultFiles.ReadAlphaMapAsync(store, jobId, at, cancellationToken).ConfigureAwait(false)
            : null;
        return Results.Ok(new JobImageDetail(jobId, image.Id, image.Cluster, image.Label, summary.PatchGridHeight, summary.PatchGridWidth, alpha,
            image.AnomalyScore, summary.AnomalyThreshold));
    }

    private static async Task<IResult> ErrorPageAsync(string jobId, int? offset, int? limit, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var (skip, take) = ApiPage.Check(offset, limit);
        var index = await ReadIndexAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        var errors = await JobResultFiles.ReadErrorsAsync(store, jobId, index, skip, take, cancellationToken).ConfigureAwait(false);
        return Results.Ok(new ResultErrorPage(jobId, index.ErrorCount, skip, errors));
    }

    internal static async Task<ResultPageIndex> ReadIndexAsync(string jobId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = JobApi.CompletedOrConflict(await JobApi.KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        try
        {
            return await JobResultFiles.ReadIndexAsync(store, status.JobId, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Result pages missing",
                $"job '{jobId}' has no result pages: its result is gone, or was written by an earlier version (GET /jobs/{jobId}/result has it whole then).");
        }
    }
}
