using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// What a caller may see of a job, applied to every answer of the job routes (an endpoint filter of the group): the
/// feature cache's hit count tells whether someone else already processed the same images, so only administrators (or
/// every caller where tenancy lets everyone see everything, e.g. an anonymous development cluster) see it. (Internal
/// error text never gets this far: the grains store an incident id instead, see <c>JobIncidents</c>.)
/// </summary>
public static class CallerVisibleJobs
{
    /// <summary>The endpoint filter: rewrites a handler's <see cref="JobStatus"/> or status list answer.</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var result = await next(context).ConfigureAwait(false);
        if (result is not IValueHttpResult { Value: { } value } || result is not IStatusCodeHttpResult { StatusCode: { } status } || status >= 300)
        {
            return result;
        }
        var http = context.HttpContext;
        var seesCacheHits = JobTenancy.CallerOf(http).SeesAll || ApiCaller.Holds(http.User, ApiPermissions.Admin);
        (object Visible, bool Changed) answer = value switch
        {
            JobStatus job => Rewritten(job, For(job, seesCacheHits)),
            IEnumerable<JobStatus> jobs => Rewritten(jobs.ToArray(), jobs.Select(job => For(job, seesCacheHits)).ToArray()),
            _ => (value, false),
        };
        // An unchanged answer keeps its own result (and headers, e.g. a 202's Location).
        return answer.Changed ? Results.Json(answer.Visible, statusCode: status) : result;
    }

    private static (object, bool) Rewritten<T>(T original, T visible) where T : class => (visible, !original.Equals(visible));

    private static (object, bool) Rewritten<T>(T[] original, T[] visible) => (visible, !original.SequenceEqual(visible));

    /// <summary>The job as the caller sees it.</summary>
    public static JobStatus For(JobStatus job, bool seesCacheHits)
    {
        ArgumentNullException.ThrowIfNull(job);
        return seesCacheHits ? job : job with { CacheHits = 0 };
    }
}
