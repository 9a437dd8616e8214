using System.Globalization;
using System.Security.Cryptography;
using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using StackExchange.Redis;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Answers a request that failed because a dependency is away (the blob store unreachable, Redis down, the silo that holds
/// the job gone, the token issuer's metadata not to be had) with 503 Service Unavailable and <c>Retry-After</c>, instead of
/// a 500 that says "report it" (or a 401 that blames the caller's token): the request
/// can simply be sent again. What failed goes to the log under an incident id, one Warning line per request (the token
/// issuer's names its metadata address and the cause); the answer names only which dependency. The first line of each
/// dependency in a minute carries the stack trace (<see cref="OutageStackTraces"/>), the others only the cause.
/// </summary>
internal sealed partial class DependencyOutageAnswer(IProblemDetailsService problems, OutageStackTraces stackTraces, ILogger<DependencyOutageAnswer> logger) : IExceptionHandler
{
    /// <summary>The seconds a client is told to wait: longer than a pod restart's first probes, short next to a job.</summary>
    public const int RetryAfterSeconds = 30;

    /// <summary>The dependency named when the OpenID Connect issuer's metadata cannot be fetched.</summary>
    public const string TokenIssuer = "token issuer";

    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (Dependency(exception) is not { } dependency || httpContext.Response.HasStarted)
        {
            return false;
        }
        var incident = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        Log(exception, incident, dependency, $"{httpContext.Request.Method} {httpContext.Request.Path}");
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = (dependency == TokenIssuer
                        ? "bearer tokens cannot be checked right now: this API's token issuer (its OpenID Connect metadata) cannot be reached"
                        : $"the cluster's {dependency} cannot be reached right now")
                    + $"; send the request again in {RetryAfterSeconds} s (incident {incident}: the server's log has the details under this id).",
                Extensions = { ["dependency"] = dependency, ["incident"] = incident },
            },
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The dependency whose outage <paramref name="exception"/> (or an exception it wraps) reports, or null when it is
    /// something else (a bug stays a 500).
    /// </summary>
    internal static string? Dependency(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            switch (cause)
            {
                case Security.TokenIssuerUnavailableException:
                    return TokenIssuer;
                case BlobStoreUnavailableException or Azure.RequestFailedException { Status: 0 or 408 or 429 or >= 500 }:
                    return "blob store";
                case RedisException:
                    return "state store (Redis)";
                case SiloUnavailableException or OrleansMessageRejectionException or TimeoutException:
                    return "cluster";
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    var each = aggregate.InnerExceptions.Select(Dependency).Distinct().ToList();
                    return each is [{ } only] ? only : null;
            }
        }
        return null;
    }

    private void Log(Exception exception, string incident, string dependency, string request)
    {
        var trace = stackTraces.Take(dependency) ? exception : null;
        // The bottom cause (e.g. "Connection refused (issuer:443)"): IdentityModel's wrappers hide it in theirs as PII.
        var reason = exception.GetBaseException().Message;
        if (Find<Security.TokenIssuerUnavailableException>(exception) is { } issuer)
        {
            LogIssuerOutage(logger, trace, incident, request, issuer.MetadataAddress, reason);
        }
        else
        {
            LogOutage(logger, trace, incident, request, dependency, reason);
        }
    }

    private static T? Find<T>(Exception exception) where T : Exception
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is T found)
            {
                return found;
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {Incident}: {Request} answered 503, the {Dependency} is unavailable: {Reason}")]
    private static partial void LogOutage(ILogger logger, Exception? exception, string incident, string request, string dependency, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {Incident}: {Request} answered 503, the token issuer's metadata at {MetadataAddress} could not be fetched: {Reason}")]
    private static partial void LogIssuerOutage(ILogger logger, Exception? exception, string incident, string request, string metadataAddress, string reason);
}
