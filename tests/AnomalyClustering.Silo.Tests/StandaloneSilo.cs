using System.Globalization;
using System.Net.Http.Headers;
using AnomalyClustering.Silo.Hosting;
using AnomalyClustering.Silo.Security;
using AnomalyClustering.Testing;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A host of its own for a test that needs settings the shared <see cref="SiloServer"/> does not have (a real Azure store
/// that the test stops, Redis clustering, the dashboard): built like Program.cs, both roles, free loopback ports, the
/// local test issuer trusted.
/// </summary>
public sealed class StandaloneSilo : IAsyncDisposable
{
    private readonly WebApplication app;

    private StandaloneSilo(WebApplication app, Uri baseAddress, TestTokens tokens)
    {
        this.app = app;
        BaseAddress = baseAddress;
        Tokens = tokens;
    }

    /// <summary>The API's base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The issuer this host trusts.</summary>
    public TestTokens Tokens { get; }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>
    /// Starts a host with <paramref name="settings"/> over the defaults (a local store in a temp folder, test issuer);
    /// <paramref name="services"/>, when given, registers last (e.g. a blob store that holds some writes).
    /// </summary>
    public static async Task<StandaloneSilo> StartAsync(TestTokens tokens, IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        var defaults = new Dictionary<string, string?>
        {
            ["AnomalyClustering:Storage:Kind"] = "Local",
            ["AnomalyClustering:Storage:LocalRoot"] = Path.Combine(Path.GetTempPath(), "anomaly-cluster-silo-tests", Guid.NewGuid().ToString("N")),
            ["Orleans:SiloPort"] = LoggedProcess.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = LoggedProcess.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "standalone-" + Guid.NewGuid().ToString("N"),
            ["AnomalyClustering:Auth:Authority"] = TestTokens.Issuer,
            ["AnomalyClustering:Auth:Audience"] = TestTokens.Audience,
        };
        foreach (var (key, value) in settings)
        {
            defaults[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(defaults);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var hosting = await builder.AddAnomalyClusteringSiloAsync();
        builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options => options.Configuration = tokens.Configuration());
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapAnomalyClusteringEndpoints(hosting);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StandaloneSilo(app, new Uri(address), tokens);
    }

    /// <summary>Every route the host maps.</summary>
    public IReadOnlyList<RouteEndpoint> Routes() =>
        [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()];

    /// <summary>A client that sends <paramref name="token"/> (none: anonymous); the caller disposes it.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>A client with every permission.</summary>
    public HttpClient AdminClient() => Client(Tokens.Mint(roles: [ApiPermissions.Admin]));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
