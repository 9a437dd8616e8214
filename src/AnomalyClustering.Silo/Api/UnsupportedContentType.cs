using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Template;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// The detail of routing's 415: routing answers a request whose content type no endpoint of its method and path accepts
/// with an endpoint of its own, so the endpoint asked for is found again by method and path and its body described
/// (its <see cref="RequestBodyDescription"/>, or the content types it accepts).
/// </summary>
internal static class UnsupportedContentType
{
    /// <summary>"METHOD /path does not take content type 'x': it takes ..." for <paramref name="context"/>'s request.</summary>
    public static string Describe(HttpContext context)
    {
        var request = context.Request;
        var refused = $"{request.Method} {request.Path} does not take content type '{request.ContentType ?? "none"}'";
        if (Requested(context) is not { } endpoint)
        {
            return $"{refused}; /openapi/v1.json says what each endpoint takes.";
        }
        var body = endpoint.Metadata.GetMetadata<RequestBodyDescription>()?.Text
            ?? string.Join(" or ", endpoint.Metadata.GetMetadata<IAcceptsMetadata>()!.ContentTypes);
        return $"{refused}: it takes {body}.";
    }

    private static RouteEndpoint? Requested(HttpContext context)
    {
        var request = context.Request;
        var endpoints = context.RequestServices.GetService<EndpointDataSource>()?.Endpoints ?? [];
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is null
                || endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } methods
                || !methods.HttpMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            var matcher = new TemplateMatcher(new RouteTemplate(endpoint.RoutePattern), []);
            if (matcher.TryMatch(request.Path, []))
            {
                return endpoint;
            }
        }
        return null;
    }
}
