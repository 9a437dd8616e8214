namespace AnomalyClustering.Silo.Security;

/// <summary>
/// Refuses state-changing requests (anything but GET, HEAD, OPTIONS) that a browser marks as sent by another site, so that
/// a web page cannot make a visitor's browser cancel, delete, name or submit jobs. ASP.NET Core itself checks nothing here:
/// its antiforgery validation covers only form-bound endpoints, and none of the job routes binds forms. Bearer tokens are not
/// sent by browsers on their own, which already stops such requests when authentication is on; this guard also covers a
/// cluster with anonymous access and any cookie-forwarding proxy in front. The rule (as in Go's CrossOriginProtection):
/// <c>Sec-Fetch-Site</c> must be <c>same-origin</c> or <c>none</c> when present; otherwise an <c>Origin</c>, when present,
/// must be the API's own origin (<see cref="Api.JobApiOptions.PublicBaseUrl"/>, or the request's own scheme and host); requests
/// from non-browser clients carry neither header and pass.
/// </summary>
public static class CrossSiteRequestGuard
{
    /// <summary>True when the request is safe to serve: a read, or a state change not marked as cross-site.</summary>
    /// <param name="request">The request.</param>
    /// <param name="publicOrigin">The API's public origin (scheme://host[:port]) when configured.</param>
    public static bool Allows(HttpRequest request, string? publicOrigin)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return true;
        }
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
        {
            return fetchSite is "same-origin" or "none";
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }
        var own = publicOrigin ?? $"{request.Scheme}://{request.Host}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Adds the guard to the pipeline: a refused request answers 403 with a ProblemDetails.</summary>
    public static IApplicationBuilder UseCrossSiteRequestGuard(this IApplicationBuilder app, string? publicOrigin)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(async (context, next) =>
        {
            if (Allows(context.Request, publicOrigin))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            await Results.Problem(
                $"{context.Request.Method} {context.Request.Path} came from another site's page (Sec-Fetch-Site / Origin); the API changes jobs only for requests sent by the API's own pages or by non-browser clients.",
                statusCode: StatusCodes.Status403Forbidden,
                title: "Cross-site request refused").ExecuteAsync(context).ConfigureAwait(false);
        });
    }
}
