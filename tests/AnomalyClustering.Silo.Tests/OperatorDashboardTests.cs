using System.Net;
using AnomalyClustering.Silo.Security;
using Microsoft.AspNetCore.Routing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The Orleans dashboard on a coordinator: absent unless switched on; switched on, every one of its routes answers 401
/// without a token and 403 to a caller without <see cref="ApiPermissions.Admin"/>, and serves an administrator.
/// </summary>
public sealed class OperatorDashboardTests(SiloServer server)
{
    [Fact]
    public async Task TheDashboardIsOffByDefault()
    {
        Assert.DoesNotContain(server.Routes(), route => route.RoutePattern.RawText?.StartsWith("/dashboard", StringComparison.Ordinal) == true);
        using var answer = await server.Client.GetAsync("/dashboard", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
    }

    [Fact]
    public async Task SwitchedOnItNeedsAnAdministratorsToken()
    {
        using var tokens = new TestTokens();
        await using var silo = await StandaloneSilo.StartAsync(tokens, new Dictionary<string, string?> { ["AnomalyClustering:Dashboard:Enabled"] = "true" });
        var routes = silo.Routes().Where(route => route.RoutePattern.RawText?.StartsWith("/dashboard", StringComparison.Ordinal) == true).ToList();
        Assert.True(routes.Count >= 2, $"{routes.Count} dashboard routes");
        using var anonymous = silo.Client();
        using var reader = silo.Client(tokens.Mint(roles: [ApiPermissions.Read]));
        foreach (var route in routes)
        {
            var path = "/" + string.Join('/', route.RoutePattern.PathSegments.Select(Sample)).TrimStart('/');
            foreach (var method in route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? (IReadOnlyList<string>)["GET"])
            {
                using var refused = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);
                Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a token: {refused.StatusCode}");
                using var forbidden = await reader.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);
                Assert.True(forbidden.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with Jobs.Read only: {forbidden.StatusCode}");
            }
        }

        using var admin = silo.AdminClient();
        using var page = await admin.GetAsync("/dashboard/", TestContext.Current.CancellationToken);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET /dashboard/: {page.StatusCode} {html[..Math.Min(300, html.Length)]}");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    private static string Sample(Microsoft.AspNetCore.Routing.Patterns.RoutePatternPathSegment segment) =>
        string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter =>
                parameter.ParameterPolicies.Any(policy => policy.Content == "int") ? "1" : "sample",
            _ => "",
        }));
}
