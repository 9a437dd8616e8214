using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using AnomalyClustering.Silo.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// Who may call a coordinator silo: tokens minted by a local issuer (<see cref="TestTokens"/>) against the real JWT bearer
/// validation, the permission policies and the cross-site guard of the host.
/// </summary>
public sealed class ApiSecurityTests(SiloServer server)
{
    private static readonly string[] OpenRoutes = ["/health/live", "/health/ready"];

    [Fact]
    public async Task EveryRouteButTheHealthProbesAnswers401WithoutAToken()
    {
        using var client = server.AnonymousClient();
        var routes = server.Routes();
        Assert.Contains(routes, route => route.RoutePattern.RawText == "/jobs/{jobId}/report");
        var checkedRoutes = 0;
        foreach (var route in routes)
        {
            var path = "/" + string.Join('/', route.RoutePattern.PathSegments.Select(Sample)).TrimStart('/');
            if (OpenRoutes.Contains(path) || path == "/metrics")
            {
                continue;
            }
            foreach (var method in route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? (IReadOnlyList<string>)["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                checkedRoutes++;
            }
        }
        // The job API's routes, the thumbnails and the OpenAPI document at least.
        Assert.True(checkedRoutes >= 12, $"{checkedRoutes} routes checked");
        foreach (var open in OpenRoutes)
        {
            using var response = await client.GetAsync(open, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task AWrongAudienceAnExpiredTokenAndAForeignKeyAre401()
    {
        using var foreign = System.Security.Cryptography.RSA.Create(2048);
        var refused = new Dictionary<string, string>
        {
            ["wrong audience"] = server.Tokens.Mint(roles: [ApiPermissions.Admin], audience: "api://another-api"),
            ["expired"] = server.Tokens.Mint(roles: [ApiPermissions.Admin], expires: DateTime.UtcNow.AddHours(-1)),
            ["foreign key"] = server.Tokens.Mint(roles: [ApiPermissions.Admin], key: new RsaSecurityKey(foreign) { KeyId = "test-key" }),
            ["not a token"] = "not-a-token",
        };
        foreach (var (why, token) in refused)
        {
            using var response = await SendAsync(HttpMethod.Get, "/jobs", token);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {response.StatusCode}");
        }
        using var accepted = await SendAsync(HttpMethod.Get, "/jobs", server.Tokens.Mint(roles: [ApiPermissions.Admin]));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task A401SaysWhetherTheTokenWasMissingOrRejectedAndWhy()
    {
        // Both once had the same text, so a caller with an expired token was told to send one.
        using (var client = server.AnonymousClient())
        {
            var missing = await client.GetAsync("/jobs", TestContext.Current.CancellationToken);
            var challenge = missing.Headers.WwwAuthenticate.Single();
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.Null(challenge.Parameter);
            await JobApiTests.ProblemAsync(missing, HttpStatusCode.Unauthorized, "no bearer token: GET /jobs needs a bearer token");
        }
        using var foreign = System.Security.Cryptography.RSA.Create(2048);
        var expiry = DateTime.UtcNow.AddHours(-1);
        var refused = new Dictionary<string, string>
        {
            ["token rejected: it expired at " + expiry.ToString("u", System.Globalization.CultureInfo.InvariantCulture)] =
                server.Tokens.Mint(roles: [ApiPermissions.Admin], expires: expiry),
            ["token rejected: its audience is not this API's ('" + TestTokens.Audience + "')"] =
                server.Tokens.Mint(roles: [ApiPermissions.Admin], audience: "api://another-api"),
            ["token rejected: its signature does not match the issuer's keys"] =
                server.Tokens.Mint(roles: [ApiPermissions.Admin], key: new RsaSecurityKey(foreign) { KeyId = "test-key" }),
            ["token rejected: it is not a well-formed JWT"] = "not-a-token",
        };
        foreach (var (detail, token) in refused)
        {
            var response = await SendAsync(HttpMethod.Get, "/jobs", token);
            var challenge = response.Headers.WwwAuthenticate.Single();
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
            await JobApiTests.ProblemAsync(response, HttpStatusCode.Unauthorized, detail);
        }
    }

    [Fact]
    public async Task AnUnreachableIssuerIsA503ToATokenAndStillA401WithoutOne()
    {
        var issuer = UnreachableIssuer();
        await using var silo = await StartWithIssuerAsync(issuer);

        using (var withToken = silo.AdminClient())
        {
            var response = await withToken.GetAsync("/jobs", TestContext.Current.CancellationToken);
            Assert.Equal(TimeSpan.FromSeconds(AnomalyClustering.Silo.Api.DependencyOutageAnswer.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
            var problem = await JobApiTests.ProblemAsync(response, HttpStatusCode.ServiceUnavailable, "bearer tokens cannot be checked right now: this API's token issuer");
            Assert.Equal("token issuer", problem.GetProperty("dependency").GetString());
            Assert.DoesNotContain(issuer.TrimEnd('/'), problem.GetRawText(), StringComparison.Ordinal);
        }
        using (var anonymous = silo.Client())
        {
            await JobApiTests.ProblemAsync(await anonymous.GetAsync("/jobs", TestContext.Current.CancellationToken), HttpStatusCode.Unauthorized, "no bearer token");
            using var live = await anonymous.GetAsync("/health/live", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Fact]
    public async Task TheHealthProbesAnswerATokenAsWithoutOneWhileTheIssuerIsUnreachable()
    {
        // A dashboard that sends its token everywhere once got 503 from the probes, which need no caller.
        await using var silo = await StartWithIssuerAsync(UnreachableIssuer());
        using var withToken = silo.AdminClient();
        foreach (var probe in OpenRoutes)
        {
            using var response = await withToken.GetAsync(probe, TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{probe}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task EachRequestRefusedForAnUnreachableIssuerIsLoggedOnceWithTheIssuerAndTheCause()
    {
        // The JWT handler logged its own error beside the outage's warning: two lines a request.
        var issuer = UnreachableIssuer();
        var log = new CapturedLog();
        await using var silo = await StartWithIssuerAsync(issuer, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(log));
        using var withToken = silo.AdminClient();
        var incidents = new List<string>();
        // What the silo logged while starting (Orleans' notes on the GC, say) is not the requests'.
        var before = log.Lines.Count;
        for (var request = 0; request < 3; request++)
        {
            var problem = await JobApiTests.ProblemAsync(await withToken.GetAsync("/jobs", TestContext.Current.CancellationToken), HttpStatusCode.ServiceUnavailable, "token issuer");
            incidents.Add(problem.GetProperty("incident").GetString()!);
        }

        // Orleans' own notes (a slow silo on a loaded machine) are not about the requests.
        var lines = log.Lines.Skip(before)
            .Where(line => line.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && !line.Category.StartsWith("Orleans", StringComparison.Ordinal))
            .ToList();
        Assert.True(lines.Count == 3, "expected one line a request:\n" + string.Join('\n', lines.Select(line => $"{line.Level} {line.Category}: {line.Message}")));
        foreach (var (line, incident) in lines.Zip(incidents))
        {
            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, line.Level);
            Assert.Contains($"Incident {incident}: GET /jobs answered 503", line.Message, StringComparison.Ordinal);
            Assert.Contains(issuer, line.Message, StringComparison.Ordinal);
            // The cause itself, not IdentityModel's wrapper with the address and reason hidden as PII.
            Assert.DoesNotContain("PII", line.Message, StringComparison.Ordinal);
            Assert.Contains("refused", line.Message, StringComparison.OrdinalIgnoreCase);
        }
        // The first carries the stack trace.
        Assert.IsType<TokenIssuerUnavailableException>(lines[0].Exception);
    }

    [Fact]
    public void AnOutageLogsOneStackTraceADependencyAMinute()
    {
        var clock = new ManualClock();
        var traces = new AnomalyClustering.Silo.Api.OutageStackTraces(clock);
        Assert.True(traces.Take("token issuer"));
        Assert.False(traces.Take("token issuer"));
        Assert.True(traces.Take("blob store"));
        clock.Now += AnomalyClustering.Silo.Api.OutageStackTraces.Interval - TimeSpan.FromSeconds(1);
        Assert.False(traces.Take("token issuer"));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.True(traces.Take("token issuer"));
        Assert.False(traces.Take("token issuer"));
    }

    /// <summary>An issuer whose metadata address answers nothing (a free loopback port).</summary>
    private static string UnreachableIssuer() =>
        $"http://127.0.0.1:{AnomalyClustering.Testing.LoggedProcess.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture)}/";

    /// <summary>A silo that trusts <paramref name="issuer"/> and has not fetched its metadata yet.</summary>
    private Task<StandaloneSilo> StartWithIssuerAsync(string issuer, Action<IServiceCollection>? services = null) =>
        StandaloneSilo.StartAsync(
            server.Tokens,
            new Dictionary<string, string?> { ["AnomalyClustering:Auth:Authority"] = issuer, ["AnomalyClustering:Auth:RequireHttpsMetadata"] = "false" },
            more =>
            {
                more.Configure<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>(
                    Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme, options => options.Configuration = null);
                services?.Invoke(more);
            });

    /// <summary>A clock the test moves.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task EachPermissionOpensItsRoutesOnlyAsARoleOrAScope()
    {
        var reader = server.Tokens.Mint(roles: [ApiPermissions.Read]);
        var readerByScope = server.Tokens.Mint(scopes: ["openid", ApiPermissions.Read]);
        var submitter = server.Tokens.Mint(roles: [ApiPermissions.Submit]);
        var canceller = server.Tokens.Mint(scopes: [ApiPermissions.Cancel]);
        var namer = server.Tokens.Mint(roles: [ApiPermissions.Name]);
        var nobody = server.Tokens.Mint(roles: ["Something.Else"]);

        await ExpectAsync(HttpMethod.Get, "/jobs", reader, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Get, "/jobs", readerByScope, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Get, "/jobs", nobody, HttpStatusCode.Forbidden);
        await ExpectAsync(HttpMethod.Get, "/jobs", submitter, HttpStatusCode.Forbidden);

        // A reader changes nothing; each state change needs its own permission (404: passed authorization, no such job).
        await ExpectAsync(HttpMethod.Post, "/jobs/no-such-job/cancel", reader, HttpStatusCode.Forbidden);
        await ExpectAsync(HttpMethod.Post, "/jobs/no-such-job/cancel", submitter, HttpStatusCode.Forbidden);
        await ExpectAsync(HttpMethod.Post, "/jobs/no-such-job/cancel", canceller, HttpStatusCode.NotFound);
        await ExpectAsync(HttpMethod.Put, "/jobs/no-such-job/clusters/0/name", reader, HttpStatusCode.Forbidden, "{\"name\":\"crack\"}");
        await ExpectAsync(HttpMethod.Put, "/jobs/no-such-job/clusters/0/name", namer, HttpStatusCode.NotFound, "{\"name\":\"crack\"}");
        await ExpectAsync(HttpMethod.Post, "/jobs", reader, HttpStatusCode.Forbidden, "{\"prefix\":\"nothing-here/\"}");
        await ExpectAsync(HttpMethod.Post, "/jobs", submitter, HttpStatusCode.BadRequest, "{\"prefix\":\"nothing-here/\"}");
    }

    [Fact]
    public async Task ACrossSitePageCannotCancelAJobWithOrWithoutTheVisitorsToken()
    {
        // What a form on another site makes a browser send: a body-less or form POST, marked by Sec-Fetch-Site and Origin.
        foreach (var token in new[] { null, server.AdminToken })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/no-such-job/cancel")
            {
                Content = new FormUrlEncodedContent([]),
            };
            request.Headers.Add("Sec-Fetch-Site", "cross-site");
            request.Headers.Add("Origin", "https://attacker.example");
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            using var client = server.AnonymousClient();
            await JobApiTests.ProblemAsync(await client.SendAsync(request, TestContext.Current.CancellationToken), HttpStatusCode.Forbidden, "another site");
        }
        // An older browser sends only Origin.
        using var originOnly = new HttpRequestMessage(HttpMethod.Post, "/jobs/no-such-job/cancel");
        originOnly.Headers.Add("Origin", "https://attacker.example");
        await JobApiTests.ProblemAsync(await server.Client.SendAsync(originOnly, TestContext.Current.CancellationToken), HttpStatusCode.Forbidden, "another site");

        // The API's own page (same origin) and non-browser clients pass the guard (404: no such job).
        using var sameOrigin = new HttpRequestMessage(HttpMethod.Post, "/jobs/no-such-job/cancel");
        sameOrigin.Headers.Add("Sec-Fetch-Site", "same-origin");
        sameOrigin.Headers.Add("Origin", server.BaseAddress.GetLeftPart(UriPartial.Authority));
        using (var answer = await server.Client.SendAsync(sameOrigin, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        }
        // Reads are not guarded: a cross-site GET changes nothing and its answer is not readable by the other site (no CORS).
        using var crossSiteRead = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        crossSiteRead.Headers.Add("Sec-Fetch-Site", "cross-site");
        using (var answer = await server.Client.SendAsync(crossSiteRead, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task OnlyAnAdministratorSeesWhetherTheFeatureCacheKnewTheImages()
    {
        using var folder = new AnomalyClustering.Cli.Tests.TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 83);
        string jobId = "";
        for (var run = 0; run < 2; run++)
        {
            using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
            using var response = await server.Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
            jobId = (await response.Content.ReadFromJsonAsync<AnomalyClustering.Abstractions.Jobs.JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.JobId;
            await server.WaitAsync(jobId);
        }
        var asAdmin = await StatusAsync(jobId, server.AdminToken);
        Assert.True(asAdmin.CacheHits > 0, $"the second upload of the same images had {asAdmin.CacheHits} cache hits");
        var asReader = await StatusAsync(jobId, server.Tokens.Mint(roles: [ApiPermissions.Read]));
        Assert.Equal(0, asReader.CacheHits);
        Assert.Equal(asAdmin.EmbeddedImages, asReader.EmbeddedImages);
    }

    [Fact]
    public void TheTenantIsOneClaimAndAbsentWhenAnonymous()
    {
        var options = new ApiAuthenticationOptions();
        var identity = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("tid", "tenant-a")], authenticationType: "Bearer");
        Assert.Equal("tenant-a", ApiCaller.TenantOf(new System.Security.Claims.ClaimsPrincipal(identity), options));
        Assert.Null(ApiCaller.TenantOf(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity()), options));
    }

    [Fact]
    public void AnApiWithoutAnIssuerRefusesToStartUnlessAnonymousAccessIsExplicit()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => new ApiAuthenticationOptions { Audience = "api://x" }.Check());
        Assert.Contains("AnomalyClustering:Auth:Authority", missing.Message, StringComparison.Ordinal);
        Assert.Contains("AllowAnonymous", missing.Message, StringComparison.Ordinal);
        new ApiAuthenticationOptions { AllowAnonymous = true }.Check();
        new ApiAuthenticationOptions { Authority = "https://issuer", Audience = "api://x" }.Check();
    }

    private async Task<AnomalyClustering.Abstractions.Jobs.JobStatus> StatusAsync(string jobId, string token)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/jobs/{jobId}", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<AnomalyClustering.Abstractions.Jobs.JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
    }

    private async Task ExpectAsync(HttpMethod method, string path, string token, HttpStatusCode expected, string? json = null)
    {
        using var response = await SendAsync(method, path, token, json);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {expected}, got {response.StatusCode}: {body}");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, string? json = null)
    {
        using var client = server.AnonymousClient();
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>A path segment with a sample value for each parameter (an int for int-constrained ones).</summary>
    private static string Sample(Microsoft.AspNetCore.Routing.Patterns.RoutePatternPathSegment segment) =>
        string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter =>
                parameter.ParameterPolicies.Any(policy => policy.Content == "int") ? "0" : "sample",
            _ => "",
        }));
}
