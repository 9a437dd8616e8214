using AnomalyClustering.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Silo.Hosting;
using AnomalyClustering.Silo.Security;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using AnomalyClustering.Storage;
using AnomalyClustering.Grains.Jobs;
using Orleans.Core.Internal;
using Orleans.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: AssemblyFixture(typeof(AnomalyClustering.Silo.Tests.SiloServer))]

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// One real host for the whole test assembly, built like Program.cs (the same extension methods): an Orleans silo with both
/// roles on free loopback ports, a local-folder blob store in a temp folder, and the HTTP API on a free port. The store is
/// wrapped in a <see cref="GatedBlobStore"/>, so that tests can hold a job in its embedding stage.
/// </summary>
public sealed class SiloServer : IAsyncLifetime
{
    /// <summary>The per-file upload limit the tests configure (small, so that the 413 test sends little).</summary>
    public const long MaxUploadFileBytes = 2 << 20;

    /// <summary>The per-request upload limit the tests configure.</summary>
    public const long MaxUploadBytes = 6 << 20;

    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);
    private WebApplication? _app;

    /// <summary>The store the silo uses (gated).</summary>
    public GatedBlobStore Store { get; private set; } = null!;

    /// <summary>The folder of the store.</summary>
    public string StoreRoot { get; } = Path.Combine(Path.GetTempPath(), "anomaly-cluster-silo-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The API's base address (http://127.0.0.1:port).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The local issuer the silo trusts.</summary>
    public TestTokens Tokens { get; } = new();

    /// <summary>The port <c>/metrics</c> is served on (and nothing else).</summary>
    public int MetricsPort { get; } = LoggedProcess.FreeLoopbackPort();

    /// <summary>A token with every permission; <see cref="Client"/> sends it.</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>A client of the API that sends <see cref="AdminToken"/>.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The JSON conventions of the API, for reading its answers.</summary>
    public static JsonSerializerOptions Json { get; } = JobApiJson.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(StoreRoot);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AnomalyClustering:Storage:Kind"] = "Local",
            ["AnomalyClustering:Storage:LocalRoot"] = StoreRoot,
            ["Orleans:SiloPort"] = LoggedProcess.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = LoggedProcess.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "silo-tests-" + Guid.NewGuid().ToString("N"),
            ["AnomalyClustering:Api:MaxUploadFileBytes"] = MaxUploadFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AnomalyClustering:Api:MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AnomalyClustering:Telemetry:PrometheusEndpoint"] = "true",
            ["AnomalyClustering:Telemetry:MetricsPort"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AnomalyClustering:Auth:Authority"] = TestTokens.Issuer,
            ["AnomalyClustering:Auth:Audience"] = TestTokens.Audience,
            // Every served report renders from its result's report digest, the path results past 100,000 images take
            // (ReportApiTests deletes a digest to render the whole result).
            ["AnomalyClustering:Api:ReportWholeReadUpTo"] = "0",
            // A line's decision log writes parts by size or when a test asks, never by its clock (LineApiTests counts parts).
            ["AnomalyClustering:Coordinator:DecisionLogFlushInterval"] = "1.00:00:00",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0", $"http://127.0.0.1:{MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        builder.Logging.ClearProviders();
        var silo = await builder.AddAnomalyClusteringSiloAsync();
        // The local issuer's metadata, given directly: the silo validates real signatures without fetching anything.
        builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options => options.Configuration = Tokens.Configuration());
        var inner = new LocalDirectoryBlobStore(StoreRoot);
        Store = new GatedBlobStore(inner);
        builder.Services.AddSingleton<IBlobStore>(Store);
        _app = builder.Build();
        _app.MapAnomalyClusteringEndpoints(silo);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(address => !address.EndsWith($":{MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}", StringComparison.Ordinal));
        BaseAddress = new Uri(address);
        AdminToken = Tokens.Mint(roles: [ApiPermissions.Admin]);
        // A busy test machine may take more than HttpClient's default second to refuse an upload that asked to continue.
        Client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", AdminToken) },
        };
    }

    /// <summary>The silo's grain factory: what tests use to reach grains behind the API (e.g. to clear a coordinator's state).</summary>
    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// Forgets a job's coordinator state as an emptied Redis does (the blobs stay), and deactivates the coordinator, so that
    /// its next activation finds nothing stored.
    /// </summary>
    public async Task ForgetCoordinatorStateAsync(string jobId)
    {
        var storage = _app!.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorageNames.Jobs);
        var coordinator = Grains.GetGrain<IClusteringJobGrain>(jobId).GetGrainId();
        var state = new GrainState<JobCoordinatorState>();
        await storage.ReadStateAsync("job", coordinator, state);
        await storage.ClearStateAsync("job", coordinator, state);
        // Not idle collection: a coordinator that ran a job keeps itself active for a while after (DelayDeactivation).
        await Grains.GetGrain<IClusteringJobGrain>(jobId).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
    }

    /// <summary>Every route the host maps (the job API's, health, metrics, OpenAPI, and any added later).</summary>
    public IReadOnlyList<RouteEndpoint> Routes() =>
        [.. ((IEndpointRouteBuilder)_app!).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()];

    /// <summary>A client of the API without a token (each test disposes its own).</summary>
    public HttpClient AnonymousClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Store?.ReleaseAll();
        Client?.Dispose();
        Tokens.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(StoreRoot, recursive: true);
        }
        catch (IOException)
        {
            // Leftovers in the temp folder must not fail the run.
        }
    }

    /// <summary>Polls the job until it is finished (fails the test after a generous limit, so a hung job cannot hang the run).</summary>
    public async Task<JobStatus> WaitAsync(string jobId, HttpClient? client = null)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        while (true)
        {
            var status = await (client ?? Client).GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", Json);
            if (status!.IsFinished)
            {
                return status;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"job {jobId} did not finish: {JsonSerializer.Serialize(status, Json)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Polls <c>GET /jobs/{id}</c> until it answers 404 (a deletion that went on after its request ended).</summary>
    public async Task WaitUntilUnknownAsync(string jobId, HttpClient? client = null)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        while (true)
        {
            using var response = await (client ?? Client).GetAsync($"/jobs/{jobId}");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"job {jobId} was not deleted: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A completed job's whole result as a client gets it: the summary from <c>/result</c>, the files from
    /// <c>/result/files/{name}</c> (absent ones skipped), read back with <see cref="ResultFolder"/>.
    /// </summary>
    public async Task<ClusteringResult> DownloadResultAsync(string jobId, HttpClient? client = null)
    {
        using var folder = new TempFolder();
        var http = client ?? Client;
        await File.WriteAllBytesAsync(Path.Combine(folder.Path, ResultFolder.SummaryFileName), await http.GetByteArrayAsync($"/jobs/{jobId}/result"));
        foreach (var name in ResultFolder.DataFileNames)
        {
            using var file = await http.GetAsync($"/jobs/{jobId}/result/files/{name}");
            if (file.StatusCode != HttpStatusCode.NotFound)
            {
                file.EnsureSuccessStatusCode();
                await File.WriteAllBytesAsync(Path.Combine(folder.Path, name), await file.Content.ReadAsByteArrayAsync());
            }
        }
        return ResultFolder.Read(folder.Path).Result;
    }

    /// <summary>A client that sends <paramref name="token"/> as its bearer token (tests of permissions and tenancy).</summary>
    public HttpClient ClientOf(string token)
    {
        var client = AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

}
