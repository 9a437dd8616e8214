using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Reports;
using AnomalyClustering.Reports.Images;
using AnomalyClustering.Reports.Thumbnails;
using AnomalyClustering.Silo.Security;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// The HTTP API of jobs (mapped on coordinator silos): submit a job over a blob prefix or by upload, list jobs, follow one,
/// fetch its result, clusters and failed images, cancel or delete it. Every refusal is a ProblemDetails with a reason a person can
/// act on (400 invalid input, 404 unknown job, 409 result not ready, 413 too large, 415 wrong content type).
/// </summary>
public static class JobApi
{
    private static readonly Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> ApiProblems = ApiProblemAnswers.For("Invalid job");

    private const string ThumbnailPrefix = "thumbnails/";

    /// <summary>Registers the API's services (limits, backbone catalog, upload receiver) and its JSON conventions.</summary>
    public static IServiceCollection AddJobApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<JobApiOptions>(configuration.GetSection(JobApiOptions.Section));
        services.AddSingleton<BackboneCatalog>();
        services.AddSingleton<UploadReceiver>();
        services.TryAddSingleton(provider => new OutageStackTraces(provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddExceptionHandler<DependencyOutageAnswer>();
        services.ConfigureHttpJsonOptions(options => JobApiJson.Configure(options.SerializerOptions));
        services.Configure<ProblemDetailsOptions>(options => options.CustomizeProblemDetails += JobApiProblems.Describe);
        return services;
    }

    /// <summary>Maps the job endpoints under <c>/jobs</c>.</summary>
    public static IEndpointRouteBuilder MapJobApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var jobs = endpoints.MapGroup("/jobs").WithTags("Jobs").AddEndpointFilter(ApiProblems)
            .AddEndpointFilter(JobTenancy.FilterAsync).AddEndpointFilter(CallerVisibleJobs.FilterAsync);

        jobs.MapPost("", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Submit a job over a dataset in the blob store")
            .WithDescription("Lists the image blobs under `prefix`, detects the layout like the CLI (MVTec test/<class>/ with train/good/, one folder per class, or flat) and starts the job. A `jobId` that exists returns that job (200) unchanged, except a failed or cancelled one, which starts again from its own manifest (202, as `POST /jobs/{jobId}/retry`). A `jobId` whose job is being deleted is refused (409) until the deletion ends.")
            .Accepts<SubmitJobRequest>("application/json")
            .WithMetadata(new RequestBodyDescription("application/json (a dataset already in the blob store: {\"prefix\": ...}); POST /jobs/upload takes image files"))
            .Produces<JobStatus>(StatusCodes.Status202Accepted)
            .Produces<JobStatus>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPermissions.Submit);

        jobs.MapPost("/upload", UploadAsync)
            .WithName("UploadJob")
            .WithSummary("Upload images and submit a job over them")
            .WithDescription("multipart/form-data, streamed into the blob store: optional fields `jobId` (before the files), `options` (JSON) and `backbone`; then the image files, each with its path in the dataset as file name (e.g. `crack/001.png`); file parts named `normal` are normal images for semi-supervised mode. Limits: AnomalyClustering:Api:MaxUploadBytes (request), MaxUploadFileBytes (file), MaxUploadFiles. A `jobId` whose job is being deleted is refused (409) before any file is stored.")
            .Accepts<JobUploadForm>("multipart/form-data")
            .WithMetadata(new RequestBodyDescription("multipart/form-data (image files); POST /jobs takes a dataset already in the blob store as application/json"))
            .Produces<JobStatus>(StatusCodes.Status202Accepted)
            .Produces<JobStatus>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPermissions.Submit);

        jobs.MapGet("", ListAsync)
            .WithName("ListJobs")
            .WithSummary("List jobs, newest first")
            .WithDescription("Paged: `limit` (1-1000, default 100) jobs after the first `offset` (default 0). Read from the job registry without activating finished jobs' coordinators; only the newest AnomalyClustering:Coordinator:ListedFinishedJobs finished jobs are listed (older ones are still found by id).")
            .Produces<IReadOnlyList<JobStatus>>()
            .ProducesProblem(StatusCodes.Status400BadRequest);

        jobs.MapGet("/{jobId}", GetAsync)
            .WithName("GetJob")
            .WithSummary("A job's state and progress")
            .Produces<JobStatus>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        jobs.MapGet("/{jobId}/result", ResultAsync)
            .WithName("GetJobResult")
            .WithSummary("The result summary of a completed job (result.json): clusters with sizes, medoids, label counts and names, metrics, options, the top of the merge tree, error counts")
            .WithDescription("Its size does not grow with the number of images. The per-image data is in the result files (GET /jobs/{jobId}/result/files/{name}) and the paged routes.")
            .Produces<JsonElement>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapGet("/{jobId}/result/files/{name}", ResultFileAsync)
            .WithName("GetJobResultFile")
            .WithSummary("One file of a completed job's result folder")
            .WithDescription("`images.parquet` (one row per clustered image: id, cluster, label, distance to the centre, anomaly score), `errors.parquet`, `linkage.npy` (SciPy's linkage matrix), `embeddings.npy` (x_i, N x D float32), `alpha.npy` (alpha maps, small jobs), `report-digest.json` (what a report shows, bounded at any N), `result.json` (the summary). Rows of every file are in the same image order.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapGet("/{jobId}/clusters", ClustersAsync)
            .WithName("GetJobClusters")
            .WithSummary("The clusters of a completed job: size, most typical image, label counts, name, and NMI / ARI / F1 when labels exist")
            .Produces<JobClusters>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapGet("/{jobId}/errors", ErrorsAsync)
            .WithName("GetJobErrors")
            .WithSummary("The images a job could not use, and why")
            .Produces<IReadOnlyList<ImageFailure>>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        jobs.MapPost("/{jobId}/cancel", CancelAsync)
            .WithName("CancelJob")
            .WithSummary("Cancel a job (a finished job stays as it is)")
            .Produces<JobStatus>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPermissions.Cancel);

        jobs.MapPost("/{jobId}/retry", RetryAsync)
            .WithName("RetryJob")
            .WithSummary("Start a failed or cancelled job again from its own images, options and backbone (any other job stays as it is)")
            .WithDescription("The previous run's progress is dropped; the feature cache keeps the patch bags it computed, so those images skip the backbone. 202 with the restarted job's status; 200 with the status of a job that was not failed or cancelled.")
            .Produces<JobStatus>(StatusCodes.Status202Accepted)
            .Produces<JobStatus>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPermissions.Submit);

        jobs.MapDelete("/{jobId}", DeleteAsync)
            .WithName("DeleteJob")
            .WithSummary("Delete a job: cancel it if it runs, delete its uploaded images, outcomes and result, and forget it")
            .WithDescription("The deletion runs in the job's coordinator. 204 when it ended within 10 s; otherwise 202 with the job's status (`deletionStartedAt`, `deletedBlobs`, `deletionError`): follow `GET /jobs/{id}` until 404. While it runs the id refuses new jobs, retries and names (409); a second DELETE joins it. A failed step is tried again, and a deletion cut short by a silo's end goes on elsewhere. Afterwards the id is unknown (404) and free for a new job. Feature-cache blobs and report thumbnails stay: they are keyed by image content and shared with other jobs over the same images.")
            .Produces(StatusCodes.Status204NoContent)
            .Produces<JobStatus>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPermissions.Cancel);

        jobs.MapPut("/{jobId}/clusters/{cluster:int}/name", NameClusterAsync)
            .WithName("NameCluster")
            .WithSummary("Name a cluster of a completed job (an empty name removes it)")
            .WithDescription("Body `{\"name\": \"crack\"}`. Names are kept with the job: they appear in `/result`, `/clusters` and `/report` from then on. At most 80 characters, one line.")
            .Accepts<ClusterNameRequest>("application/json")
            .WithMetadata(new RequestBodyDescription("application/json ({\"name\": \"crack\"})"))
            .Produces<JobClusterNames>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPermissions.Name);

        jobs.MapGet("/{jobId}/report", ReportAsync)
            .WithName("GetJobReport")
            .WithSummary("The HTML report of a completed job: galleries, alpha heat maps, dendrogram, confusion matrix, names")
            .WithDescription("One page; thumbnails and heat maps are made once per image content and cached as blobs (served by GET /thumbnails/{key}). Each gallery embeds its cluster's `galleryImages` most typical images (1 to 240, default 240) and fetches further pages from GET /jobs/{jobId}/clusters/{cluster}/images and GET /jobs/{jobId}/thumbnail when paged to. Cluster names typed into the page are saved through PUT /jobs/{jobId}/clusters/{cluster}/name. Results of more than AnomalyClustering:Api:ReportWholeReadUpTo images (default 100,000) render from result.json and report-digest.json alone, O(K x 480 + top of the tree) bytes whatever N is.")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        jobs.MapJobResultPages();
        jobs.MapJobImageThumbnails(ThumbnailPrefix);

        endpoints.MapGet("/thumbnails/{key}", ThumbnailAsync)
            .WithTags("Jobs")
            .WithName("GetThumbnail")
            .WithSummary("A cached report thumbnail or heat map (JPEG; content-addressed, so cacheable forever)")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .AddEndpointFilter(ApiProblems);
        return endpoints;
    }

    private static async Task<IResult> SubmitAsync(
        HttpRequest request, IGrainFactory grains, IBlobStore store, BackboneCatalog backbones, IOptions<JobApiOptions> limits,
        IOptions<CoordinatorOptions> coordinators, CancellationToken cancellationToken)
    {
        var body = await JobRequests.ReadJsonAsync<SubmitJobRequest>(request, cancellationToken).ConfigureAwait(false);
        var jobId = JobRequests.JobIdOrNew(body.JobId);
        var caller = JobTenancy.CallerOf(request.HttpContext);
        var existing = await ExistingJobAsync(grains, store, jobId, caller, cancellationToken).ConfigureAwait(false);
        if (existing.State != JobState.Unknown)
        {
            return await RetriedOrUnchangedAsync(grains, jobId, JobTenancy.ExistingFor(caller, existing)).ConfigureAwait(false);
        }
        var options = JobRequests.CheckOptions(body.Options ?? new JobOptions(), limits.Value);
        var backbone = backbones.DescriptionJsonFor(body.Backbone);
        var dataset = await BlobDatasetDiscovery.DiscoverAsync(
            store, body.Prefix, body.NormalPrefix, limits.Value.MaxPrefixImages,
            JobOptionsMapping.ToPipelineOptions(options, coordinators.Value.ClusteringMemoryBudgetBytes), cancellationToken).ConfigureAwait(false);
        return await JobRequests.SubmitAsync(store, grains, jobId, dataset, options, backbone, BlobDatasetDiscovery.NormalisePrefix(body.Prefix, "prefix"), caller, cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<IResult> UploadAsync(
        HttpRequest request, IGrainFactory grains, IBlobStore store, UploadReceiver receiver, BackboneCatalog backbones, IOptions<JobApiOptions> limits,
        CancellationToken cancellationToken)
    {
        var caller = JobTenancy.CallerOf(request.HttpContext);
        JobStatus? existing = null;
        var upload = await receiver.ReceiveAsync(request, async jobId =>
        {
            var status = await ExistingJobAsync(grains, store, jobId, caller, cancellationToken).ConfigureAwait(false);
            existing = status.State == JobState.Unknown ? null : JobTenancy.ExistingFor(caller, status);
            return existing is not null;
        }, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return Results.Ok(existing);
        }
        try
        {
            var options = upload.Options ?? JobRequests.CheckOptions(new JobOptions(), limits.Value);
            var backbone = upload.BackboneJson ?? backbones.DescriptionJsonFor(null);
            var imagesPrefix = JobBlobNames.UploadedImagesPrefix(upload.JobId);
            var normals = upload.NormalNames.Count == 0 ? null
                : upload.NormalNames.Select(name => new JobImage(name, JobBlobNames.UploadedNormalImagesPrefix(upload.JobId) + name)).ToList();
            var dataset = BlobDatasetDiscovery.FromNames(imagesPrefix, upload.ImageNames, "the upload", normals);
            return await JobRequests.SubmitAsync(store, grains, upload.JobId, dataset, options, backbone, imagesPrefix, caller, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiProblemException { StatusCode: not StatusCodes.Status409Conflict } or InvalidJobException or JobBeingDeletedException)
        {
            // A refused job leaves nothing behind: its images would only take space. (Not on a 409 of the API: the id, and
            // so the folder, is another tenant's job that was submitted in between. A deletion that began in between is
            // deleting the folder anyway, or has done so before these images arrived.)
            await receiver.DeleteAsync(upload.JobId).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains, int? limit, int? offset)
    {
        var (skip, take) = ApiPage.Check(offset, limit);
        var caller = JobTenancy.CallerOf(http);
        var registry = grains.GetGrain<IJobRegistryGrain>(0);
        var listed = caller.SeesAll
            ? await registry.List(skip, take).ConfigureAwait(false)
            : await registry.ListVisibleTo(caller.Tenant, skip, take).ConfigureAwait(false);
        // Finished jobs are answered from the registry; a running job's progress comes from its coordinator, which is active
        // anyway while the job runs (and so is one registered before the registry kept statuses, state Unknown there).
        var statuses = await Task.WhenAll(listed.Select(status => status.State.IsFinished()
            ? Task.FromResult(status)
            : grains.GetGrain<IClusteringJobGrain>(status.JobId).GetStatus())).ConfigureAwait(false);
        return Results.Ok(statuses);
    }

    private static async Task<IResult> GetAsync(string jobId, IGrainFactory grains, HttpContext http) =>
        Results.Ok(await KnownJobAsync(grains, jobId, http).ConfigureAwait(false));

    private static async Task<IResult> ResultAsync(string jobId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = CompletedOrConflict(await KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        var document = await OpenResultAsync(store, status, cancellationToken).ConfigureAwait(false);
        return Results.Stream(document, "application/json");
    }

    private static async Task<IResult> ClustersAsync(string jobId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = CompletedOrConflict(await KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        var summary = await ReadSummaryAsync(store, status, cancellationToken).ConfigureAwait(false);
        var clusters = summary.Clusters
            .OrderBy(cluster => cluster.Cluster)
            .Select(cluster => new JobCluster(
                cluster.Cluster,
                cluster.Size,
                cluster.CentreImage,
                cluster.Labels.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal).ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal),
                cluster.Name))
            .ToList();
        var metrics = summary.Metrics is { } scores ? new ClusterMetrics(scores.Nmi, scores.Ari, scores.F1) : null;
        return Results.Ok(new JobClusters(jobId, summary.ImageCount, summary.ClusterCount, summary.Classes, metrics, clusters, summary.ErrorCount));
    }

    private static async Task<IResult> ResultFileAsync(string jobId, string name, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = CompletedOrConflict(await KnownJobAsync(grains, jobId, http).ConfigureAwait(false));
        if (!JobResultFiles.DownloadableFiles.Contains(name))
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown result file",
                $"'{name}' is not a result file; the files are {string.Join(", ", JobResultFiles.DownloadableFiles)}.");
        }
        try
        {
            var file = await JobResultFiles.OpenFileAsync(store, status.JobId, name, cancellationToken).ConfigureAwait(false);
            var type = name.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
            return Results.Stream(file, type, fileDownloadName: name);
        }
        catch (BlobNotFoundException)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Result file missing",
                $"job '{status.JobId}' has no {name} (alpha maps are kept in the result up to a size, embeddings only for jobs from pixels or vectors, and results written before results were folders have only result.json).");
        }
    }

    private static async Task<IResult> ErrorsAsync(string jobId, IGrainFactory grains, HttpContext http, IBlobStore store, CancellationToken cancellationToken)
    {
        var status = await KnownJobAsync(grains, jobId, http).ConfigureAwait(false);
        return Results.Ok(IsRecovered(http)
            ? await RecoveredJobs.FailuresAsync(store, status, cancellationToken).ConfigureAwait(false)
            : await grains.GetGrain<IClusteringJobGrain>(jobId).GetFailures().ConfigureAwait(false));
    }

    private static async Task<IResult> CancelAsync(string jobId, IGrainFactory grains, HttpContext http)
    {
        var status = await KnownJobAsync(grains, jobId, http).ConfigureAwait(false);
        // A recovered job is completed, and a finished job stays as it is.
        if (IsRecovered(http))
        {
            return Results.Ok(status);
        }
        return Results.Ok(await grains.GetGrain<IClusteringJobGrain>(jobId).Cancel().ConfigureAwait(false));
    }

    private static async Task<IResult> RetryAsync(string jobId, IGrainFactory grains, HttpContext http)
    {
        var status = await KnownJobAsync(grains, jobId, http).ConfigureAwait(false);
        // A recovered job is completed: nothing to retry.
        return IsRecovered(http) ? Results.Ok(status) : await RetriedOrUnchangedAsync(grains, jobId, status).ConfigureAwait(false);
    }

    /// <summary>A failed or cancelled job started again (202); any other job's status as it is (200); a job being deleted refused (409).</summary>
    private static async Task<IResult> RetriedOrUnchangedAsync(IGrainFactory grains, string jobId, JobStatus existing)
    {
        existing.ThrowIfBeingDeleted();
        return existing.State is JobState.Failed or JobState.Cancelled
            ? Results.Accepted($"/jobs/{jobId}", await grains.GetGrain<IClusteringJobGrain>(jobId).Retry().ConfigureAwait(false))
            : Results.Ok(existing);
    }

    private static async Task<IResult> DeleteAsync(string jobId, IGrainFactory grains, HttpContext http)
    {
        await KnownJobAsync(grains, jobId, http).ConfigureAwait(false);
        // The coordinator deletes; a client that goes away does not stop it. A small job is gone within the wait, a
        // million-image one is followed through its status.
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
        var started = (await coordinator.Delete().ConfigureAwait(false))!.Value;
        return await coordinator.WaitForDeletion(started, IClusteringJobGrain.MaxDeletionWait).ConfigureAwait(false)
            ? Results.NoContent()
            : Results.Accepted($"/jobs/{jobId}", await coordinator.GetStatus().ConfigureAwait(false));
    }

    private static async Task<IResult> NameClusterAsync(string jobId, int cluster, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        CompletedOrConflict(await KnownJobAsync(grains, jobId, request.HttpContext).ConfigureAwait(false));
        // Read strictly (unknown members and a missing name refused): a lenient read took '{}' or a typo for a removal.
        var body = await JobRequests.ReadJsonAsync<ClusterNameRequest>(request, cancellationToken).ConfigureAwait(false);
        var names = await grains.GetGrain<IClusteringJobGrain>(jobId).NameCluster(cluster, body.Name).ConfigureAwait(false);
        return Results.Ok(new JobClusterNames(jobId, names));
    }

    private static async Task<IResult> ReportAsync(
        string jobId, int? galleryImages, HttpRequest request, IGrainFactory grains, IBlobStore store, IOptions<JobApiOptions> api, CancellationToken cancellationToken)
    {
        var defaults = new ReportOptions();
        if (galleryImages is < 1 || galleryImages > defaults.MaxImagesPerCluster)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "Bad galleryImages",
                $"galleryImages is how many images of each cluster the page embeds: 1 to {defaults.MaxImagesPerCluster} (default {defaults.MaxImagesPerCluster}); the page fetches the others when paged to.");
        }
        var status = CompletedOrConflict(await KnownJobAsync(grains, jobId, request.HttpContext).ConfigureAwait(false));
        var summary = await ReadSummaryAsync(store, status, cancellationToken).ConfigureAwait(false);
        var digest = summary.ImageCount > api.Value.ReportWholeReadUpTo ? await ServedReportReads.TryReadDigestAsync(store, status, cancellationToken).ConfigureAwait(false) : null;
        // Never from the Host header: a client chooses it, and the page's links and its name-saving calls would follow it.
        var apiBase = api.Value.PublicBaseUrl?.TrimEnd('/') ?? request.PathBase.ToString();
        var options = new ReportOptions
        {
            ApiBaseUrl = apiBase, JobId = jobId, Title = $"Job {jobId}", MaxImagesPerCluster = galleryImages ?? defaults.MaxImagesPerCluster,
        };
        var (result, source) = digest is not null
            ? await ServedReportReads.ReadFromDigestAsync(store, status, digest, cancellationToken).ConfigureAwait(false)
            // The whole result: small results (their page lists every image), and results written before report digests
            // existed (O(N) bytes per render). Embeddings only where the galleries compute exact medoids from them; beyond,
            // the recorded distances order them (embeddings.npy is 1 GB at a million images).
            : await ReadResultAsync(store, status, withEmbeddings: summary.ImageCount <= EmbeddingClustering.EmbeddingsKeptUpTo, cancellationToken).ConfigureAwait(false);
        // The blobs of the pictured images only (K x 480 at most).
        var pictured = ClusterReport.PicturedImageIds(result, options, digest);
        var (blobsById, indexById) = await ServedReportReads.PicturedBlobsAsync(grains, store, status, pictured, digest, IsRecovered(request.HttpContext), cancellationToken)
            .ConfigureAwait(false);
        var input = new ClusterReportInput(
            result,
            source,
            new JobReportImages(store, jobId, blobsById, indexById),
            new BlobThumbnailCache(store, ThumbnailPrefix, $"{apiBase}/thumbnails/{{key}}"))
        {
            Options = options,
            Digest = digest,
        };
        var page = new MemoryStream();
        await ClusterReport.WriteAsync(input, page, cancellationToken).ConfigureAwait(false);
        page.Position = 0;
        request.HttpContext.Response.Headers.ContentSecurityPolicy = ClusterReport.ContentSecurityPolicy;
        request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Stream(page, "text/html; charset=utf-8");
    }

    private static async Task<IResult> ThumbnailAsync(string key, HttpResponse response, IBlobStore store, CancellationToken cancellationToken)
    {
        string checkedKey;
        try
        {
            checkedKey = ThumbnailKeys.Check(key);
        }
        catch (ArgumentException)
        {
            throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown thumbnail", $"'{key}' is not a thumbnail key; thumbnails are linked from GET /jobs/{{jobId}}/report.");
        }
        var bytes = await new BlobThumbnailCache(store, ThumbnailPrefix).TryGetAsync(checkedKey, cancellationToken).ConfigureAwait(false)
            ?? throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown thumbnail", $"no thumbnail '{key}'; GET the job's report again to make it.");
        // Keys are content hashes: the bytes behind a key never change.
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return Results.Bytes(bytes, "image/jpeg");
    }

    /// <summary>
    /// The status of an existing job, or 404. Kept in <paramref name="http"/>'s items for the rest of the request: the
    /// tenancy filter asks first, and the handler then reuses that answer instead of calling the coordinator again.
    /// </summary>
    internal static async Task<JobStatus> KnownJobAsync(IGrainFactory grains, string jobId, HttpContext? http)
    {
        if (http?.Items[KnownJobItem] is JobStatus fetched && fetched.JobId == jobId)
        {
            return fetched;
        }
        JobRequests.CheckJobId(jobId);
        var status = await grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus().ConfigureAwait(false);
        if (status.State == JobState.Unknown)
        {
            // The coordinator has no state; a completed job's result may still be in the store (RecoveredJobs). Or it holds
            // only the mark of a recovered job whose deletion stopped after the result went: the owner is gone with the result,
            // so whoever asks finds it (nothing of it is left to see) and can finish the deletion, which frees the id.
            if (http is null)
            {
                throw UnknownJob(jobId);
            }
            var store = http.RequestServices.GetRequiredService<IBlobStore>();
            var recovered = await RecoveredJobs.FromResultAsync(store, jobId, http.RequestAborted).ConfigureAwait(false);
            if (recovered is { } found && (found.OwnerKnown || JobTenancy.CallerOf(http).SeesAll))
            {
                status = found.Status with { DeletionStartedAt = status.DeletionStartedAt };
                http.Items[RecoveredJobItem] = true;
            }
            else if (status.DeletionStartedAt is null)
            {
                throw UnknownJob(jobId);
            }
        }
        if (http is not null)
        {
            http.Items[KnownJobItem] = status;
        }
        return status;
    }

    /// <summary>True when the request's job was rebuilt from its result document (<see cref="RecoveredJobs"/>): its coordinator has no state.</summary>
    internal static bool IsRecovered(HttpContext http) => http.Items.ContainsKey(RecoveredJobItem);

    /// <summary>
    /// The job an id names for a submission: its coordinator's status, or a recovered one when only its result is left (a
    /// new job must not overwrite that result); Unknown when the id is free. A recovered job of unknown owner is taken for
    /// every caller who does not see every job.
    /// </summary>
    /// <exception cref="JobBeingDeletedException">The id's job is being deleted (the API answers 409).</exception>
    internal static async Task<JobStatus> ExistingJobAsync(IGrainFactory grains, IBlobStore store, string jobId, JobCaller caller, CancellationToken cancellationToken)
    {
        var status = await grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus().ConfigureAwait(false);
        if (status.DeletionStartedAt is not null)
        {
            // Refused before anything is stored: the deletion still running would take a new job's blobs with it. Another
            // tenant learns only that the id is taken.
            JobTenancy.ExistingFor(caller, status).ThrowIfBeingDeleted();
        }
        if (status.State != JobState.Unknown || await RecoveredJobs.FromResultAsync(store, jobId, cancellationToken).ConfigureAwait(false) is not { } recovered)
        {
            return status;
        }
        return recovered.OwnerKnown || caller.SeesAll ? recovered.Status : recovered.Status with { Tenant = UnknownOwner };
    }

    // A tenant no caller has: a recovered job whose owner record is missing is visible to no tenant-scoped caller.
    private const string UnknownOwner = "\u0000unknown-owner";

    private static readonly object RecoveredJobItem = new();

    // The key of the request's fetched job status in HttpContext.Items (an object, so no other code can collide with it).
    private static readonly object KnownJobItem = new();

    /// <summary>The 404 of a job that does not exist, or that belongs to another tenant (<see cref="JobTenancy"/>): the same answer.</summary>
    internal static ApiProblemException UnknownJob(string jobId) =>
        new(StatusCodes.Status404NotFound, "Unknown job", $"there is no job '{jobId}'; GET /jobs lists the jobs.");

    internal static JobStatus CompletedOrConflict(JobStatus status)
    {
        if (status.State == JobState.Completed && status.ResultBlob is not null)
        {
            return status;
        }
        var state = JsonNamingPolicy.CamelCase.ConvertName(status.State.ToString());
        var why = status.State switch
        {
            JobState.Failed => $"job '{status.JobId}' failed, so it has no result: {status.Error}",
            JobState.Cancelled => $"job '{status.JobId}' was cancelled, so it has no result.",
            _ => $"job '{status.JobId}' is {state}; its result exists once it is completed (GET /jobs/{status.JobId} shows the progress).",
        };
        var problem = new ApiProblemException(StatusCodes.Status409Conflict, "Result not ready", why);
        problem.Extensions["state"] = state;
        throw problem;
    }

    internal static async Task<Stream> OpenResultAsync(IBlobStore store, JobStatus status, CancellationToken cancellationToken)
    {
        try
        {
            return await store.OpenReadAsync(status.ResultBlob!, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            throw ResultMissing(status);
        }
    }

    /// <summary>A completed job's result summary (what its overview routes answer from, whatever N is).</summary>
    internal static async Task<ResultSummary> ReadSummaryAsync(IBlobStore store, JobStatus status, CancellationToken cancellationToken)
    {
        try
        {
            return await JobResultFiles.ReadSummaryAsync(store, status.ResultBlob!, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            throw ResultMissing(status);
        }
        catch (InvalidDataException)
        {
            // A full document of an earlier version: its summary is computed from it.
            var (result, source) = await ReadResultAsync(store, status, cancellationToken).ConfigureAwait(false);
            using var summary = new MemoryStream();
            ClusteringResultJson.WriteSummary(summary, result, source, ClusterCentres.Of(result).CentreImages);
            summary.Position = 0;
            return ResultSummary.Read(summary);
        }
    }

    /// <summary>A completed job's whole result, every file read (reports and catalogs; pages read less).</summary>
    internal static Task<(ClusteringResult Result, ResultSource Source)> ReadResultAsync(IBlobStore store, JobStatus status, CancellationToken cancellationToken) =>
        ReadResultAsync(store, status, withEmbeddings: true, cancellationToken);

    /// <summary>A completed job's result, with or without its embeddings (<see cref="JobResultFiles.ReadAsync(IBlobStore, string, bool, CancellationToken)"/>).</summary>
    internal static async Task<(ClusteringResult Result, ResultSource Source)> ReadResultAsync(
        IBlobStore store, JobStatus status, bool withEmbeddings, CancellationToken cancellationToken)
    {
        try
        {
            return await JobResultFiles.ReadAsync(store, status.ResultBlob!, withEmbeddings, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            throw ResultMissing(status);
        }
    }

    private static ApiProblemException ResultMissing(JobStatus status) =>
        new(StatusCodes.Status404NotFound, "Result missing",
            $"job '{status.JobId}' completed but its result '{status.ResultBlob}' is gone from the store (deleted by a retention policy?).");
}
