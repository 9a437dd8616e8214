using Microsoft.AspNetCore.Http.Features;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Gives the ProblemDetails that ASP.NET Core writes itself (routing's 404 / 405 / 415, a binding failure's 400, an
/// unhandled error's 500) a detail a person can act on; the job endpoints' own refusals already carry one.
/// </summary>
public static class JobApiProblems
{
    /// <summary>Fills in <see cref="ProblemDetailsContext.ProblemDetails"/>.Detail when it is empty.</summary>
    public static void Describe(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        if (!string.IsNullOrEmpty(problem.Detail))
        {
            return;
        }
        var request = context.HttpContext.Request;
        var endpoint = $"{request.Method} {request.Path}";
        problem.Detail = problem.Status switch
        {
            StatusCodes.Status400BadRequest =>
                $"{endpoint}: the request is malformed (a query or route value of the wrong type, or an unreadable body); /openapi/v1.json describes every endpoint.",
            StatusCodes.Status401Unauthorized => context.HttpContext.Features.Get<Security.BearerTokenRejection>() is { } rejection
                ? $"token rejected: {rejection.Reason}. {endpoint} needs a valid bearer token of this API's OpenID Connect issuer and audience; get a new one (the CLI sends it with --token or ANOMALY_CLUSTERING_TOKEN)."
                : $"no bearer token: {endpoint} needs a bearer token of this API's OpenID Connect issuer (Authorization: Bearer ...); the CLI sends one with --token or ANOMALY_CLUSTERING_TOKEN. docs/SECURITY.md describes the settings.",
            StatusCodes.Status403Forbidden =>
                $"{endpoint}: the token does not grant this; reading needs Jobs.Read, submitting Jobs.Submit, naming clusters Jobs.Name, cancelling or deleting Jobs.Cancel (as an app role or a scope), Jobs.Admin grants all.",
            StatusCodes.Status404NotFound => $"{endpoint}: no such endpoint; /openapi/v1.json lists them.",
            StatusCodes.Status405MethodNotAllowed => $"{endpoint}: the method is not allowed here; /openapi/v1.json lists the methods of every endpoint.",
            StatusCodes.Status413PayloadTooLarge => $"{endpoint}: the request body is larger than this endpoint accepts.",
            StatusCodes.Status415UnsupportedMediaType => UnsupportedContentType.Describe(context.HttpContext),
            >= 500 => $"{endpoint} failed inside the server (trace id {context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity.TraceId.ToString() ?? context.HttpContext.TraceIdentifier}); its log has the details.",
            _ => null,
        };
    }
}
