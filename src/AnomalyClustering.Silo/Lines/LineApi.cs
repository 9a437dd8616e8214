using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Silo.Security;
using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Silo.Lines;

/// <summary>
/// The HTTP API of production lines (mapped on coordinator silos, beside the job API): make a line's next catalog version
/// from a completed job, show a line, decide posted images against it, page its decision log, and delete it. A line belongs to the
/// caller's tenant (<see cref="LineCatalogStore"/>); refusals are ProblemDetails like the job API's (400 bad name or
/// input, 404 unknown line or job, 409 job not completed, 413 too large, 415 wrong content type).
/// </summary>
public static class LineApi
{
    private static readonly Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> ApiProblems = ApiProblemAnswers.For("Invalid line");

    /// <summary>The most files one <c>POST /lines/{name}/images</c> takes.</summary>
    public const int MaxImagesPerPost = 32;


    /// <summary>Registers the line API's services (the silo registers the shared ones: <see cref="LineCatalogStore"/>, <see cref="LineImageDecider"/>).</summary>
    public static IServiceCollection AddLineApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services;
    }

    /// <summary>Maps the line endpoints under <c>/lines</c>.</summary>
    public static IEndpointRouteBuilder MapLineApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var lines = endpoints.MapGroup("/lines").WithTags("Lines").AddEndpointFilter(ApiProblems);

        lines.MapPost("", CreateAsync)
            .WithName("CreateLine")
            .WithSummary("Make the next catalog version of a line from a completed job")
            .WithDescription("Body `{\"name\": \"plate-a\", \"fromJob\": \"<jobId>\"}` (optional `margin`, `acceptanceFactor`). The job's clusters as cut, named as the job's names say (`cluster k` otherwise), become the catalog's defect types; the job's options, backbone and references or normal bank are kept with it, so that new images are processed as the job's were. Version 1 for a new line, the next version otherwise; versions are never overwritten.")
            .Accepts<CreateLineRequest>("application/json")
            .WithMetadata(new RequestBodyDescription("application/json ({\"name\": \"plate-a\", \"fromJob\": \"<jobId>\"}, optional margin and acceptanceFactor)"))
            .Produces<LineView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPermissions.Submit);

        lines.MapGet("/{name}", ShowAsync)
            .WithName("GetLine")
            .WithSummary("A line's newest catalog (or `?version=n`): versions, and per defect type its name, size, spread and acceptance radius")
            .Produces<LineView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        lines.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteLine")
            .WithSummary("Delete a line of the caller's tenant: every catalog version, its images, outcomes and decisions")
            .WithDescription("Afterwards the name is unknown (404) and free for a new line. Intake messages still queued for it are logged as `unknown-line` errors under the name (an intake consumer may keep a catalog it read for up to 10 s); such errors are not final (the image is decided when sent again once a line of the name exists), and a DELETE of a name that holds only them deletes them (204; 404 when the name holds nothing).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPermissions.Cancel);

        lines.MapPost("/{name}/images", DecideAsync)
            .WithName("DecideLineImages")
            .WithSummary("Decide images against a line's newest catalog: a known defect type, or novel")
            .WithDescription($"multipart/form-data with 1 to {MaxImagesPerPost} image files (each at most AnomalyClustering:Api:MaxUploadFileBytes). Each is processed as the catalog's job processed its images, then assigned by the Ward-increase rule; the answer lists per file its id (the SHA-256 of its bytes), the decision with its anomaly score, distances and catalog version, or a per-image error. An image posted again is answered from the decision log (`repeated: true`) and logged once.")
            .Accepts<IFormFileCollection>("multipart/form-data")
            .WithMetadata(new RequestBodyDescription($"multipart/form-data with 1 to {MaxImagesPerPost} image files"))
            .Produces<LineImagesResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPermissions.Submit);

        lines.MapGet("/{name}/images/{imageId}", ImageAsync)
            .WithName("GetLineImage")
            .WithSummary("A posted image of a line, as stored")
            .WithDescription("The bytes of an image posted to the line (stored by its SHA-256, its id), for reports; 404 for an id the line does not hold (an edge gateway's blob of another name).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

        lines.MapGet("/{name}/images/{imageId}/weights", WeightsAsync)
            .WithName("GetLineImageWeights")
            .WithSummary("A decided image's patch weights")
            .WithDescription("`{\"imageId\": ..., \"weights\": [...]}`: the patch weights alpha of the image (row-major on the backbone's patch grid), from which reports draw heat maps; 404 when the image has no outcome.")
            .Produces<LineImageWeights>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        lines.MapGet("/{name}/decisions", DecisionsAsync)
            .WithName("GetLineDecisions")
            .WithSummary("A line's decisions, in log order")
            .WithDescription("Paged: up to `limit` (1-1000, default 100) decisions made in [`since`, `until`) (ISO 8601 times, both optional); pass the answer's `next` as `continuation` (with the same window) for the next page. Read from the Parquet parts `lines/{tenant}/{name}/decisions/date=yyyy-MM-dd/hour=HH/part-*.parquet` and the decisions the line's log still buffers (every decision answered so far); a page reads only the parts that hold it, and reading writes nothing.")
            .Produces<LineDecisionPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        lines.MapLineNovelPoolApi();
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, IGrainFactory grains, IBlobStore store, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        var body = await JobRequests.ReadJsonAsync<CreateLineRequest>(request, cancellationToken).ConfigureAwait(false);
        var caller = JobTenancy.CallerOf(request.HttpContext);
        var prefix = LineCatalogStore.PrefixOf(caller.Tenant, body.Name!);
        if (string.IsNullOrEmpty(body.FromJob))
        {
            throw ApiProblemException.BadRequest("fromJob is missing: name the completed job whose clusters make the catalog.");
        }
        var settings = new AssignmentRuleSettings(body.Margin ?? AssignmentRuleSettings.Default.Margin, body.AcceptanceFactor ?? AssignmentRuleSettings.Default.AcceptanceFactor);
        settings.Validate();
        var job = await JobApi.KnownJobAsync(grains, body.FromJob, request.HttpContext).ConfigureAwait(false);
        if (!caller.Sees(job))
        {
            throw JobApi.UnknownJob(body.FromJob);
        }
        JobApi.CompletedOrConflict(job);
        var (result, source) = await JobApi.ReadResultAsync(store, job, cancellationToken).ConfigureAwait(false);
        if (Enumerable.Range(0, result.ClusterCount).Any(k => result.Names.NameOf(k) == LineDecision.Novel))
        {
            throw ApiProblemException.BadRequest($"job '{job.JobId}' has a cluster named 'novel', the decision for an image of no known type; rename it (PUT /jobs/{job.JobId}/clusters/{{cluster}}/name) first.");
        }
        // A recovered job's coordinator has no state: its catalog is made, but cannot process new images (no scoring basis).
        var basis = JobApi.IsRecovered(request.HttpContext) ? null : await grains.GetGrain<IClusteringJobGrain>(job.JobId).GetScoringBasis().ConfigureAwait(false);
        var scoring = basis is null ? null : new CatalogScoring(
            job.JobId,
            JsonSerializer.Serialize(basis.Options, JobApiJson.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web))),
            basis.BackboneDescriptionJson,
            basis.ReferenceImages,
            basis.ReferenceFeatureBlobs,
            basis.ReferencesPerImage,
            basis.NormalFeatureBlobs);
        // This creation's own pin owner, below the line's (the line's deletion unpins them all): a creation that fails removes
        // its own pins and never those of a creation that ran beside it and made the line (both would pin the same bags).
        var pinOwner = $"{prefix}creation-{Guid.NewGuid():N}";
        if (scoring is not null)
        {
            // Before the catalog: the line scores every new image against these bags for as long as it exists, so a
            // feature-cache retention must not expire them (nor the job's deletion: the bags are the cache's, not the job's).
            await FeatureCachePins.PinAsync(store, pinOwner, [.. scoring.ReferenceFeatureBlobs, .. scoring.NormalFeatureBlobs], cancellationToken).ConfigureAwait(false);
        }
        LineCatalog catalog;
        try
        {
            catalog = await lines.AddAsync(prefix,
                version => JobLineCatalog.Create(body.Name!, version, result, source, $"job:{job.JobId}", settings) with { Scoring = scoring },
                cancellationToken).ConfigureAwait(false);
        }
        catch when (scoring is not null)
        {
            // A creation that failed pins nothing. Unless the line has a catalog by now: this creation's write may have
            // landed though it failed, and its pins are then that catalog's (they go with the line at worst).
            if ((await lines.VersionsAsync(prefix, CancellationToken.None).ConfigureAwait(false)).Count == 0)
            {
                await FeatureCachePins.UnpinAsync(store, pinOwner, CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        var versions = await lines.VersionsAsync(prefix, cancellationToken).ConfigureAwait(false);
        return Results.Created($"/lines/{catalog.Line}", LineView.Of(catalog, versions));
    }

    private static async Task<IResult> ShowAsync(string name, int? version, HttpContext http, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        var (catalog, versions) = await KnownLineAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        if (version is { } asked && asked != catalog.Version)
        {
            if (!versions.Contains(asked))
            {
                throw new ApiProblemException(StatusCodes.Status404NotFound, "Unknown catalog version",
                    $"line '{name}' has catalog versions {string.Join(", ", versions)}; there is no version {asked}.");
            }
            catalog = await lines.ReadAsync(LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name), asked, cancellationToken).ConfigureAwait(false);
        }
        return Results.Ok(LineView.Of(catalog, versions));
    }

    private static async Task<IResult> DeleteAsync(
        string name, HttpContext http, IBlobStore store, LineCatalogStore lines, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
        // A name without a catalog is unknown, but its folder may hold what intake messages sent before the line was made
        // (or after it was deleted) left: `unknown-line` errors. Those are deleted too, or nothing would ever remove them.
        var known = await lines.NewestAsync(prefix, cancellationToken).ConfigureAwait(false) is not null;
        if (!known && !await store.AnyUnderAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            throw UnknownLine(name);
        }
        // The decision log's buffer first: flushed after the deletion, it would bring the line's decisions back. (A batch
        // logged in between loses its journal to the deletion, and the log drops a batch without a journal.)
        await grains.GetGrain<ILineDecisionLogGrain>(prefix).Discard().ConfigureAwait(false);
        // The prefix ends with '/': line "plate" never takes "plate-b" with it. The catalogs last, after the pins: while a
        // catalog is left the line is still found, so a deletion that failed half-way is finished by asking again.
        await store.DeletePrefixAsync(prefix, keep: name => LineCatalogStore.VersionOf(prefix, name) is not null, BlobStoreExtensions.DeletionBatch, cancellationToken).ConfigureAwait(false);
        if (known)
        {
            // Not for a name without a catalog: a line being made writes its pins before its catalog.
            await FeatureCachePins.UnpinAsync(store, prefix, cancellationToken).ConfigureAwait(false);
        }
        await store.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
        // Likewise a compaction of the decision log that read the line's parts before the deletion listed them.
        await grains.GetGrain<ILineDecisionLogGrain>(prefix).LineDeleted().ConfigureAwait(false);
        // A recluster of the novel pool that found the line before the catalogs went may be writing its proposals now: the
        // pool grain waits for it and deletes them. (If this call fails, what it left keeps the name known and a retry ends it.)
        await grains.GetGrain<ILineNovelPoolGrain>(prefix).LineDeleted().ConfigureAwait(false);
        return Results.NoContent();
    }

    private static async Task<IResult> DecideAsync(
        string name, HttpRequest request, LineCatalogStore lines, LineImageDecider decider, IBlobStore store, IOptions<JobApiOptions> limits, CancellationToken cancellationToken)
    {
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(request.HttpContext).Tenant, name);
        var (catalog, _) = await KnownLineAsync(lines, name, request.HttpContext, cancellationToken).ConfigureAwait(false);
        LineImageDecider.OptionsOf(catalog);
        if (!request.HasFormContentType || request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"POST /lines/{name}/images takes multipart/form-data with 1 to {MaxImagesPerPost} image files (got '{request.ContentType ?? "none"}').");
        }
        var fileLimit = limits.Value.MaxUploadFileBytes;
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = (fileLimit + 4096) * MaxImagesPerPost, ValueCountLimit = MaxImagesPerPost + 16 }, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            throw new ApiProblemException(e.StatusCode, "Invalid images", $"the form could not be read: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new ApiProblemException(StatusCodes.Status413PayloadTooLarge, "Request too large",
                $"the form is larger than this endpoint accepts ({MaxImagesPerPost} files of at most {fileLimit} bytes) or malformed: {e.Message}");
        }
        if (form.Files.Count is 0 or > MaxImagesPerPost)
        {
            throw ApiProblemException.BadRequest($"the request has {form.Files.Count} image files; send 1 to {MaxImagesPerPost} per request.", "Invalid images");
        }
        // Each readable file is stored under the line by its content hash (its image id) and decided by the same path as
        // the intake queue's images; a file that cannot be read is answered with its error in its place.
        var results = new LineImageResult?[form.Files.Count];
        var stored = new List<(int Index, LineImageDecider.StoredImage Image)>(form.Files.Count);
        for (var f = 0; f < form.Files.Count; f++)
        {
            var file = form.Files[f];
            var fileName = string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName;
            if (ReadError(file, fileLimit) is { } error)
            {
                results[f] = new LineImageResult(null, fileName, false, null, error);
                continue;
            }
            stored.Add((f, await StoreAsync(store, prefix, file, fileName, cancellationToken).ConfigureAwait(false)));
        }
        var decided = await decider.DecideAsync(prefix, catalog, [.. stored.Select(s => s.Image)], logFailures: false, cancellationToken).ConfigureAwait(false);
        for (var s = 0; s < stored.Count; s++)
        {
            results[stored[s].Index] = decided[s];
        }
        return Results.Ok(new LineImagesResponse(catalog.Line, catalog.Version, [.. results.Select(r => r!)]));
    }

    private static LineImageError? ReadError(IFormFile file, long fileLimit) => file.Length switch
    {
        0 => new LineImageError("empty", "the file is empty."),
        _ when file.Length > fileLimit => new LineImageError("too-large", $"the file has {file.Length} bytes; the limit is {fileLimit} (AnomalyClustering:Api:MaxUploadFileBytes)."),
        _ => null,
    };

    private static async Task<LineImageDecider.StoredImage> StoreAsync(IBlobStore store, string prefix, IFormFile file, string fileName, CancellationToken cancellationToken)
    {
        using var bytes = new MemoryStream((int)file.Length);
        await using (var stream = file.OpenReadStream())
        {
            await stream.CopyToAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        var imageId = Convert.ToHexStringLower(SHA256.HashData(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)));
        var blob = LineBlobNames.ImageOf(prefix, imageId);
        bytes.Position = 0;
        await store.PutAsync(blob, bytes, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new LineImageDecider.StoredImage(imageId, fileName, blob);
    }

    private static async Task<IResult> ImageAsync(string name, string imageId, HttpContext http, IBlobStore store, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        await KnownLineAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
        try
        {
            var bytes = await store.ReadAllBytesAsync(LineBlobNames.ImageOf(prefix, CheckedImageId(imageId)), cancellationToken: cancellationToken).ConfigureAwait(false);
            return Results.File(bytes, "application/octet-stream");
        }
        catch (BlobNotFoundException)
        {
            throw UnknownImage(name, imageId);
        }
    }

    private static async Task<IResult> WeightsAsync(string name, string imageId, HttpContext http, IBlobStore store, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        await KnownLineAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
        return await LineImageOutcomes.ReadPatchWeightsAsync(store, prefix, CheckedImageId(imageId), cancellationToken).ConfigureAwait(false) is { } weights
            ? Results.Ok(new LineImageWeights(imageId, weights))
            : throw UnknownImage(name, imageId);
    }

    /// <summary>An image id as ids are made (hex hashes, camera names): never a path out of the line's folder.</summary>
    private static string CheckedImageId(string imageId) =>
        imageId.Length is > 0 and <= 128 && imageId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') && !imageId.StartsWith('.')
            ? imageId
            : throw ApiProblemException.BadRequest($"image id '{imageId}' is not one: 1-128 letters, digits, '.', '_' or '-', not starting with '.'.", "Invalid image id");

    private static ApiProblemException UnknownImage(string name, string imageId) =>
        new(StatusCodes.Status404NotFound, "Unknown image", $"line '{name}' holds no image '{imageId}' (only posted and fed images are stored under the line).");

    private static async Task<IResult> DecisionsAsync(
        string name, string? since, string? until, int? limit, string? continuation, HttpContext http, IGrainFactory grains, IBlobStore store, LineCatalogStore lines,
        CancellationToken cancellationToken)
    {
        var (_, take) = ApiPage.Check(null, limit);
        var from = TimeParameter("since", since);
        var to = TimeParameter("until", until);
        await KnownLineAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
        try
        {
            // The log grain's buffer merged in, not flushed: a reader sees every decision answered so far, and a dashboard
            // polling this writes no part (it wrote one per read, thousands of tiny parts an hour that every read then listed).
            var slice = await LineDecisionLog.PageAsync(
                store, grains.GetGrain<ILineDecisionLogGrain>(prefix), prefix, from, to, take, continuation, cancellationToken).ConfigureAwait(false);
            return Results.Ok(new LineDecisionPage(name, from, to, take, slice.Decisions, slice.Next));
        }
        catch (InvalidLineDecisionQueryException e)
        {
            throw ApiProblemException.BadRequest(e.Message, "Invalid decision query");
        }
    }

    private static DateTimeOffset? TimeParameter(string parameter, string? text) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at
        : throw ApiProblemException.BadRequest($"{parameter} '{text}' is not a time; give an ISO 8601 time such as 2026-12-02T16:00:00Z.", "Invalid decision query");

    /// <summary>The blob prefix of the caller's line <paramref name="name"/>; 404 when it does not exist.</summary>
    internal static async Task<string> KnownPrefixAsync(LineCatalogStore lines, string name, HttpContext http, CancellationToken cancellationToken)
    {
        await KnownLineAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        return LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
    }

    private static async Task<(LineCatalog Catalog, IReadOnlyList<int> Versions)> KnownLineAsync(LineCatalogStore lines, string name, HttpContext http, CancellationToken cancellationToken)
    {
        var prefix = LineCatalogStore.PrefixOf(JobTenancy.CallerOf(http).Tenant, name);
        return await lines.NewestAsync(prefix, cancellationToken).ConfigureAwait(false) ?? throw UnknownLine(name);
    }

    private static ApiProblemException UnknownLine(string name) => new(StatusCodes.Status404NotFound, "Unknown line",
        $"there is no line '{name}'; make it from a completed job with POST /lines {{\"name\": \"{name}\", \"fromJob\": \"<jobId>\"}}.");
}
