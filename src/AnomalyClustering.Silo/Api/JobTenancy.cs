using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Jobs belong to the tenant of the caller who submitted them (<see cref="JobSpecification.Tenant"/>). The one check of the
/// job routes is <see cref="FilterAsync"/>, an endpoint filter of the <c>/jobs</c> group: every route with a <c>{jobId}</c>
/// answers 404, exactly as for an unknown job, when the job's tenant is not the caller's. <c>GET /jobs</c> lists through
/// <see cref="JobCaller.SeesAll"/> and <see cref="JobCaller.Tenant"/>. Jobs with no tenant, and every job on an anonymous
/// development cluster, are visible to every caller (as before tenancy).
/// </summary>
public static class JobTenancy
{
    /// <summary>The caller of a request, as tenancy sees it.</summary>
    public static JobCaller CallerOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var security = http.RequestServices.GetService<ApiAuthenticationOptions>();
        return security is null || security.AllowAnonymous
            ? new JobCaller(SeesAll: true, Tenant: null)
            : new JobCaller(SeesAll: false, Tenant: ApiCaller.TenantOf(http.User, security));
    }

    /// <summary>The endpoint filter: 404 (as for an unknown job) when the route's job belongs to another tenant.</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var caller = CallerOf(http);
        // KnownJobAsync keeps the status in the request's items: the handler's own KnownJobAsync reuses it.
        if (!caller.SeesAll && http.Request.RouteValues.TryGetValue("jobId", out var value) && value is string jobId)
        {
            var job = await JobApi.KnownJobAsync(http.RequestServices.GetRequiredService<IGrainFactory>(), jobId, http).ConfigureAwait(false);
            if (!caller.Sees(job))
            {
                throw JobApi.UnknownJob(jobId);
            }
        }
        return await next(context).ConfigureAwait(false);
    }

    /// <summary>
    /// An existing job a submission with the same id meets: the job when the caller may see it (the submission answers it
    /// unchanged); 409 when it is another tenant's (the id is taken, nothing of the job is told).
    /// </summary>
    public static JobStatus ExistingFor(JobCaller caller, JobStatus existing)
    {
        ArgumentNullException.ThrowIfNull(existing);
        return caller.Sees(existing) ? existing
            : throw new ApiProblemException(StatusCodes.Status409Conflict, "Job id taken",
                $"the job id '{existing.JobId}' is taken; choose another jobId, or leave it out for a new one.");
    }
}

/// <summary>A caller as tenancy sees it.</summary>
/// <param name="SeesAll">True on an anonymous development cluster (or without API security, in process): every job is visible.</param>
/// <param name="Tenant">The caller's tenant claim, or null; the tenant its submissions are recorded with.</param>
public readonly record struct JobCaller(bool SeesAll, string? Tenant)
{
    /// <summary>True when the caller may see <paramref name="job"/>.</summary>
    public bool Sees(JobStatus job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return SeesAll || job.IsVisibleTo(Tenant);
    }
}
