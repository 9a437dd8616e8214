using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Net.Http.Headers;

namespace AnomalyClustering.Silo.Api;

/// <summary>Reading and checking what job requests carry: JSON bodies, options, job ids; and handing a found dataset to its coordinator.</summary>
public static class JobRequests
{
    /// <summary>Reads a JSON body as <typeparamref name="T"/> (unknown members refused).</summary>
    /// <exception cref="ApiProblemException">415 not JSON; 400 malformed JSON or a missing required member.</exception>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !(contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
        {
            // The upload hint only where a client may have meant an upload.
            var upload = request.Path.Equals("/jobs", StringComparison.OrdinalIgnoreCase) ? "; to upload image files, POST multipart/form-data to /jobs/upload" : "";
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"this endpoint takes application/json (got '{request.ContentType ?? "none"}'){upload}.");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, JobApiJson.Requests, cancellationToken).ConfigureAwait(false)
                ?? throw ApiProblemException.BadRequest("the body is JSON null; send a JSON object.", "Malformed JSON");
        }
        catch (JsonException e)
        {
            throw ApiProblemException.BadRequest($"the body is not a valid request: {JsonRequestErrors.Describe(e)}", "Malformed JSON");
        }
    }

    /// <summary>Parses the JSON of job options (a form field) and checks them, against <paramref name="limits"/> too.</summary>
    /// <exception cref="ApiProblemException">400: malformed JSON, an unknown member, an invalid value or one over a limit.</exception>
    public static JobOptions ParseOptions(string json, JobApiOptions limits, string what)
    {
        JobOptions? options;
        try
        {
            options = JsonSerializer.Deserialize<JobOptions>(json, JobApiJson.Requests);
        }
        catch (JsonException e)
        {
            throw ApiProblemException.BadRequest($"{what} is not valid JSON options: {JsonRequestErrors.Describe(e)}", "Invalid options");
        }
        return CheckOptions(options ?? new JobOptions(), limits, what);
    }

    /// <summary>
    /// Checks options as the coordinator will, so that a mistake is refused before any upload or listing, and returns them
    /// in canonical form (names as the CLI spells them; a null mode or linkage becomes its default) and within this server's
    /// <paramref name="limits"/> (<see cref="JobOptionLimits.Apply"/>): every way options arrive passes both checks here.
    /// </summary>
    /// <exception cref="ApiProblemException">400 with the reason.</exception>
    public static JobOptions CheckOptions(JobOptions options, JobApiOptions limits, string what = "options")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            return JobOptionLimits.Apply(JobOptionsMapping.FromPipelineOptions(JobOptionsMapping.ToPipelineOptions(options)), limits);
        }
        catch (InvalidClusteringInputException e)
        {
            var problem = ApiProblemException.BadRequest($"{what}: {e.Message}", "Invalid options");
            problem.Extensions["field"] = OptionField(e.ParamName);
            throw problem;
        }
    }

    /// <summary>
    /// The JSON name of the job option that the pipeline's check names (its own member names, or words), so that the
    /// problem's <c>field</c> is one the caller sent.
    /// </summary>
    internal static string? OptionField(string? pipelineName) => pipelineName switch
    {
        "Tau" => "tau",
        "ClusterCount" => "clusters",
        "AutomaticClusterCount" => "clusters",
        "DistanceThreshold" => "distanceThreshold",
        "MinimumClusterCount" or "MaximumClusterCount" => "minClusters",
        "Criterion" or "criterion" => "clusterCountCriterion",
        "CoresetFraction" => "coreset",
        "ReferenceCount" => "refs",
        "NormalImageLimit" => "normalLimit",
        "Mode" => "mode",
        "Linkage" => "linkage",
        "Algorithm" => "algorithm",
        "DetectThenCluster" => "detectThenCluster",
        "maximum image dimension" => "maxImageDimension",
        // Others are the member's own name, in the API's camelCase (a line's Margin is its settings' "margin").
        null => null,
        _ => JsonNamingPolicy.CamelCase.ConvertName(pipelineName),
    };

    /// <summary>The job id of a request, or a new one; checked against <see cref="JobBlobNames.ValidateJobId"/>.</summary>
    /// <exception cref="ApiProblemException">400: the id is not allowed.</exception>
    public static string JobIdOrNew(string? jobId)
    {
        var id = string.IsNullOrEmpty(jobId) ? Guid.CreateVersion7().ToString("N") : jobId;
        CheckJobId(id);
        return id;
    }

    /// <summary>Throws 400 unless <paramref name="jobId"/> is an allowed job id.</summary>
    public static void CheckJobId(string jobId)
    {
        try
        {
            JobBlobNames.ValidateJobId(jobId);
        }
        catch (InvalidJobException e)
        {
            throw ApiProblemException.BadRequest(e.Message, "Invalid job id");
        }
    }

    /// <summary>
    /// Submits the job of <paramref name="dataset"/> (its manifest written to <paramref name="store"/>, then the reference sent
    /// to its coordinator): 202 Accepted with the status and the job's location.
    /// Normal images travel only in semi-supervised mode, the one that reads them.
    /// The job is recorded with the caller's tenant (none on an anonymous cluster).
    /// </summary>
    /// <exception cref="InvalidJobException">The coordinator refused the job (the caller's problem filter answers 400).</exception>
    /// <exception cref="ApiProblemException">409: another tenant's job took the id first.</exception>
    public static async Task<IResult> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, DiscoveredBlobDataset dataset, JobOptions options, string backboneJson, string source,
        JobCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var submission = new JobSubmission(dataset.Images, IsSemiSupervised(options) ? dataset.NormalImages : [], options, backboneJson, source, caller.SeesAll ? null : caller.Tenant);
        return await AcceptedAsync(store, jobId, caller, await JobSubmitter.SubmitAsync(store, grains, jobId, submission, cancellationToken: cancellationToken).ConfigureAwait(false))
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Submits the job of a listed prefix (<paramref name="dataset"/>): its images are listed again and written into the
    /// manifest's chunks as the listing arrives, never held; then as <see cref="SubmitAsync(IBlobStore, IGrainFactory, string, DiscoveredBlobDataset, JobOptions, string, string, JobCaller, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="InvalidJobException">The coordinator refused the job, or the prefix no longer holds images.</exception>
    /// <exception cref="ApiProblemException">409: another tenant's job took the id first; 400: the prefix grew past a limit since it was listed.</exception>
    public static async Task<IResult> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, BlobDatasetPlan dataset, JobOptions options, string backboneJson, string source,
        JobCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var semiSupervised = IsSemiSupervised(options);
        var submission = new StreamedJobSubmission(
            async (writer, token) =>
            {
                await dataset.WriteImagesAsync(store, writer, token).ConfigureAwait(false);
                foreach (var normal in semiSupervised ? dataset.NormalImages : [])
                {
                    await writer.AddNormalImageAsync(normal, token).ConfigureAwait(false);
                }
            },
            options, backboneJson, source, caller.SeesAll ? null : caller.Tenant, IdsAreUnique: true);
        return await AcceptedAsync(store, jobId, caller, await JobSubmitter.SubmitAsync(store, grains, jobId, submission, cancellationToken: cancellationToken).ConfigureAwait(false))
            .ConfigureAwait(false);
    }

    private static bool IsSemiSupervised(JobOptions options) => ClusteringOptionNames.ParseMode(options.Mode) == ClusteringMode.SemiSupervised;

    private static async Task<IResult> AcceptedAsync(IBlobStore store, string jobId, JobCaller caller, JobStatus submitted)
    {
        // A job submitted with the same id in between is answered as an existing one.
        var status = JobTenancy.ExistingFor(caller, submitted);
        // Beside the result it will write: who the job belongs to, should the coordinator's state be lost (RecoveredJobs).
        await RecoveredJobs.WriteOwnerAsync(store, status, CancellationToken.None).ConfigureAwait(false);
        return Results.Accepted($"/jobs/{jobId}", status);
    }
}
