using AnomalyClustering.Abstractions.Jobs;
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
/// Each request reads the job's result document from the store, O(N (D + M)); the pages it answers are O(limit).
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
        var result = await ReadAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        if (cluster < 0 || cluster >= result.ClusterCount)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown cluster",
                $"job '{jobId}' has clusters 0 to {result.ClusterCount - 1}; there is no cluster {cluster}.");
        }
        var centres = ClusterCentres.Of(result);
        var members = Enumerable.Range(0, result.Images.Count)
            .Where(i => result.Images[i].Cluster == cluster)
            .OrderBy(i => double.IsNaN(centres.Distances[i]) ? 0 : centres.Distances[i])
            .ThenBy(i => i)
            .ToArray();
        var page = members.Skip(skip).Take(take)
            .Select(i => new ClusterImage(result.Images[i].Id, result.Images[i].Label, double.IsNaN(centres.Distances[i]) ? null : centres.Distances[i], result.Images[i].AnomalyScore))
            .ToList();
        return Results.Ok(new ClusterImagePage(jobId, cluster, members.Length, skip, page));
    }

    private static async Task<IResult> ImageAsync(string jobId, string imageId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var result = await ReadAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        var image = result.Images.FirstOrDefault(image => image.Id == imageId)
            ?? throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown image",
                $"job '{jobId}' clustered no image '{imageId}'; GET /jobs/{jobId}/clusters/{{cluster}}/images lists them.");
        return Results.Ok(new JobImageDetail(jobId, image.Id, image.Cluster, image.Label, result.PatchGridHeight, result.PatchGridWidth, image.PatchWeights,
            image.AnomalyScore, result.AnomalyThreshold));
    }

    private static async Task<IResult> ErrorPageAsync(string jobId, int? offset, int? limit, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var (skip, take) = ApiPage.Check(offset, limit);
        var result = await ReadAsync(jobId, grains, http, store, cancellationToken).ConfigureAwait(false);
        return Results.Ok(new ResultErrorPage(jobId, result.Errors.Count, skip, result.Errors.Skip(skip).Take(take).ToList()));
    }

    private static async Task<ClusteringResult> ReadAsync(string jobId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = JobApi.CompletedOrConflict(await JobApi.KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        await using var document = await JobApi.OpenResultAsync(store, status, cancellationToken).ConfigureAwait(false);
        return ClusteringResultJson.Read(document).Result;
    }
}
