using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// What a caller may see of a job, applied to every answer of the job routes (an endpoint filter of the group): an internal
/// error (a job's <c>internal error: ...</c>, an image's <c>internal</c> failure) carries exception text that can name
/// storage endpoints, keys or stack frames, so the answer gets an incident id instead and the log gets the text under it;
/// and the feature cache's hit count tells whether someone else already processed the same images, so only administrators
/// (or everyone on an anonymous development cluster) see it.
/// </summary>
public static partial class CallerVisibleJobs
{
    /// <summary>The reason an image failure has when the failure was the system's, not the image's.</summary>
    public const string InternalReason = "internal";

    private const string InternalErrorPrefix = "internal error";
    private const int MaxLoggedIncidents = 10_000;

    // Clients poll: each incident is logged once per process, not once per answer.
    private static readonly ConcurrentDictionary<string, bool> LoggedIncidents = new(StringComparer.Ordinal);

    /// <summary>The endpoint filter: rewrites a handler's <see cref="JobStatus"/>, status list or failure list answer.</summary>
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
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CallerVisibleJobs));
        var security = http.RequestServices.GetService<ApiAuthenticationOptions>();
        var seesCacheHits = security is null || security.AllowAnonymous || ApiCaller.Holds(http.User, ApiPermissions.Admin);
        (object Visible, bool Changed) answer = value switch
        {
            JobStatus job => Rewritten(job, For(job, seesCacheHits, logger)),
            IEnumerable<JobStatus> jobs => Rewritten(jobs.ToArray(), jobs.Select(job => For(job, seesCacheHits, logger)).ToArray()),
            IEnumerable<ImageFailure> failures => Rewritten(failures.ToArray(), failures.Select(failure => For(failure, logger)).ToArray()),
            _ => (value, false),
        };
        // An unchanged answer keeps its own result (and headers, e.g. a 202's Location).
        return answer.Changed ? Results.Json(answer.Visible, statusCode: status) : result;
    }

    private static (object, bool) Rewritten<T>(T original, T visible) where T : class => (visible, !original.Equals(visible));

    private static (object, bool) Rewritten<T>(T[] original, T[] visible) => (visible, !original.SequenceEqual(visible));

    /// <summary>The job as the caller sees it.</summary>
    public static JobStatus For(JobStatus job, bool seesCacheHits, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(logger);
        var error = job.Error is { } text && text.StartsWith(InternalErrorPrefix, StringComparison.OrdinalIgnoreCase)
            ? Incident(logger, job.JobId, text)
            : job.Error;
        return job with { Error = error, CacheHits = seesCacheHits ? job.CacheHits : 0 };
    }

    /// <summary>The image failure as the caller sees it.</summary>
    public static ImageFailure For(ImageFailure failure, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Reason == InternalReason ? failure with { Message = Incident(logger, failure.Id, failure.Message) } : failure;
    }

    /// <summary>The public text of an internal error: an incident id (the same for the same error) that the log holds it under.</summary>
    private static string Incident(ILogger logger, string subject, string detail)
    {
        var incident = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject + "\n" + detail))[..6]);
        if (LoggedIncidents.Count > MaxLoggedIncidents)
        {
            LoggedIncidents.Clear();
        }
        if (LoggedIncidents.TryAdd(incident, true))
        {
            LogIncident(logger, incident, subject, detail);
        }
        return $"internal error (incident {incident}); the server's log has the details under this id.";
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Incident {Incident} ({Subject}): {Detail}")]
    private static partial void LogIncident(ILogger logger, string incident, string subject, string detail);
}
