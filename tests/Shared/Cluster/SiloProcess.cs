using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace AnomalyClustering.Testing;

/// <summary>What every silo of one test cluster shares: the cluster ids, Redis and the blob store.</summary>
/// <param name="ClusterId">Orleans__ClusterId, unique per test run.</param>
/// <param name="ServiceId">Orleans__ServiceId.</param>
/// <param name="RedisConnectionString">ConnectionStrings__Redis.</param>
/// <param name="BlobConnectionString">ConnectionStrings__Blobs (Azurite).</param>
/// <param name="Extra">More settings for every silo (e.g. coordinator limits), as configuration keys with '__'.</param>
internal sealed record ClusterSettings(
    string ClusterId, string ServiceId, string RedisConnectionString, string BlobConnectionString, IReadOnlyDictionary<string, string> Extra);

/// <summary>
/// One silo of the test cluster as a separate process: <c>dotnet AnomalyClustering.Silo.dll</c> with its role, ports and
/// settings in the environment (the names of OPS_CONTRACT.md). Ready when <c>GET /health/ready</c> answers 200.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private SiloProcess(string name, string roles, int siloPort, int gatewayPort, int httpPort, LoggedProcess process)
    {
        Name = name;
        Roles = roles;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        Process = process;
    }

    /// <summary>Orleans__SiloName.</summary>
    public string Name { get; }

    /// <summary>AnomalyClustering__Roles.</summary>
    public string Roles { get; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; }

    /// <summary>Gateway (client) port.</summary>
    public int GatewayPort { get; }

    /// <summary>HTTP port of health and the API.</summary>
    public int HttpPort { get; }

    /// <summary>The process and its output.</summary>
    public LoggedProcess Process { get; }

    /// <summary>
    /// The built silo host: the path recorded in <paramref name="assembly"/> by its build (assembly metadata
    /// <c>SiloAssembly</c>, same configuration), else the newest src/AnomalyClustering.Silo/bin/*/net10.0/AnomalyClustering.Silo.dll
    /// under <paramref name="repositoryRoot"/>. Null when neither exists.
    /// </summary>
    public static string? FindAssembly(Assembly assembly, string repositoryRoot)
    {
        var recorded = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(attribute => attribute.Key == "SiloAssembly")?.Value;
        if (!string.IsNullOrEmpty(recorded) && File.Exists(recorded))
        {
            return recorded;
        }
        var bin = Path.Combine(repositoryRoot, "src", "AnomalyClustering.Silo", "bin");
        return Directory.Exists(bin)
            ? Directory.GetFiles(bin, "AnomalyClustering.Silo.dll", SearchOption.AllDirectories)
                .Where(path => Path.GetFileName(Path.GetDirectoryName(path)) == "net10.0")
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault()
            : null;
    }

    /// <summary>Starts a silo (new free ports unless given) without waiting for it; see <see cref="WaitReadyAsync"/>.</summary>
    public static SiloProcess Start(
        string assembly, ClusterSettings cluster, string name, string roles, int? siloPort = null, int? gatewayPort = null,
        IReadOnlyDictionary<string, string>? extra = null, int? httpPort = null)
    {
        var ports = (Silo: siloPort ?? LoggedProcess.FreeLoopbackPort(), Gateway: gatewayPort ?? LoggedProcess.FreeLoopbackPort(), Http: httpPort ?? LoggedProcess.FreeLoopbackPort());
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(assembly)! };
        start.ArgumentList.Add(assembly);
        // Settings of the developer's shell or CI must not leak into the silos: only the test's own count.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("AnomalyClustering__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Orleans__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }
        var environment = new Dictionary<string, string>
        {
            ["AnomalyClustering__Roles"] = roles,
            // A loopback test cluster, like the dev overlay: the API without tokens (the authentication tests are the Silo tests').
            ["AnomalyClustering__Auth__AllowAnonymous"] = "true",
            ["AnomalyClustering__Clustering"] = "Redis",
            ["ConnectionStrings__Redis"] = cluster.RedisConnectionString,
            ["AnomalyClustering__Storage__Kind"] = "AzureBlob",
            ["ConnectionStrings__Blobs"] = cluster.BlobConnectionString,
            ["Orleans__ClusterId"] = cluster.ClusterId,
            ["Orleans__ServiceId"] = cluster.ServiceId,
            ["Orleans__SiloName"] = name,
            ["Orleans__SiloPort"] = Text(ports.Silo),
            ["Orleans__GatewayPort"] = Text(ports.Gateway),
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Text(ports.Http)}",
            // One line per log entry (searchable); Orleans' own chatter only from warnings up.
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Orleans"] = "Warning",
            ["Logging__LogLevel__Microsoft"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            // Three silos and the tests share two cores: workstation GC keeps each process small.
            ["DOTNET_gcServer"] = "0",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        foreach (var (key, value) in cluster.Extra.Concat(extra ?? new Dictionary<string, string>()))
        {
            environment[key] = value;
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = LoggedProcess.Start($"silo {name} ({roles})", start);
        return new SiloProcess(name, roles, ports.Silo, ports.Gateway, ports.Http, process);
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200; throws with the last answer and the silo's output otherwise.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                await Task.Delay(200);
                throw new InvalidOperationException($"silo {Name} exited before it was ready.\n{Process.Tail()}");
            }
            try
            {
                using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
                last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(250);
        }
        throw new InvalidOperationException($"silo {Name} was not ready after {timeout.TotalSeconds:F0} s (last /health/ready: {last}).\n{Process.Tail()}");
    }

    /// <summary>
    /// Stops the silo as Kubernetes stops a pod: SIGTERM, then up to <paramref name="gracePeriod"/> for Orleans' graceful
    /// shutdown (leave the cluster, deactivate its grains), then a kill. Returns true when it exited on its own.
    /// </summary>
    public Task<bool> TerminateAsync(TimeSpan gracePeriod) => Process.TerminateAsync(gracePeriod);

    /// <summary>Kills the silo process at once (a crash: no graceful leave).</summary>
    public Task KillAsync() => Process.KillAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
