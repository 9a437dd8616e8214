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

    // How many times a silo that found a port taken (chosen free, then taken by another process before its bind) is started again.
    private const int PortTakenRestarts = 3;

    private readonly string assembly;
    private readonly ClusterSettings cluster;
    private readonly IReadOnlyDictionary<string, string>? extra;
    // Silo and gateway ports given by the caller (a restarted pod keeps them) are kept on a restart, but for the last.
    private readonly bool portsGiven;
    private int? httpPort;

    private SiloProcess(string assembly, ClusterSettings cluster, string name, string roles, int siloPort, int gatewayPort, bool portsGiven,
        IReadOnlyDictionary<string, string>? extra)
    {
        this.assembly = assembly;
        this.cluster = cluster;
        this.extra = extra;
        this.portsGiven = portsGiven;
        Name = name;
        Roles = roles;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Process = Launch();
    }

    /// <summary>Orleans__SiloName.</summary>
    public string Name { get; }

    /// <summary>AnomalyClustering__Roles.</summary>
    public string Roles { get; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; private set; }

    /// <summary>Gateway (client) port.</summary>
    public int GatewayPort { get; private set; }

    /// <summary>
    /// HTTP port of health and the API: the silo binds port 0 and the OS picks it, read from the silo's "Now listening on"
    /// line, so no other process can take it between a choice and the bind. Known once <see cref="WaitReadyAsync"/> returned.
    /// </summary>
    public int HttpPort => httpPort ?? throw new InvalidOperationException($"silo {Name}: its HTTP port is known once it is listening (WaitReadyAsync).");

    /// <summary>The process and its output (a new one when the first found a port taken).</summary>
    public LoggedProcess Process { get; private set; }

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

    /// <summary>Starts a silo (new free silo and gateway ports unless given) without waiting for it; see <see cref="WaitReadyAsync"/>.</summary>
    public static SiloProcess Start(
        string assembly, ClusterSettings cluster, string name, string roles, int? siloPort = null, int? gatewayPort = null,
        IReadOnlyDictionary<string, string>? extra = null) =>
        new(assembly, cluster, name, roles, siloPort ?? LoggedProcess.FreeLoopbackPort(), gatewayPort ?? LoggedProcess.FreeLoopbackPort(),
            portsGiven: siloPort is not null || gatewayPort is not null, extra);

    private LoggedProcess Launch()
    {
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
            ["AnomalyClustering__Roles"] = Roles,
            // A loopback test cluster, like the dev overlay: the API without tokens (the authentication tests are the Silo tests').
            ["AnomalyClustering__Auth__AllowAnonymous"] = "true",
            ["AnomalyClustering__Clustering"] = "Redis",
            ["ConnectionStrings__Redis"] = cluster.RedisConnectionString,
            ["AnomalyClustering__Storage__Kind"] = "AzureBlob",
            ["ConnectionStrings__Blobs"] = cluster.BlobConnectionString,
            ["Orleans__ClusterId"] = cluster.ClusterId,
            ["Orleans__ServiceId"] = cluster.ServiceId,
            ["Orleans__SiloName"] = Name,
            ["Orleans__SiloPort"] = Text(SiloPort),
            ["Orleans__GatewayPort"] = Text(GatewayPort),
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
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
        return LoggedProcess.Start($"silo {Name} ({Roles})", start);
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200; throws with the last answer and the silo's output otherwise.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        httpPort = await ListeningPortAsync(timeout, clock);
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

    private const string ListeningLine = "Now listening on: http://127.0.0.1:";

    /// <summary>
    /// The HTTP port from the silo's "Now listening on" line. A silo that exited because a port was taken (its silo or
    /// gateway port, chosen free but bound later) is started again, on new ports unless they were given (then on new ones
    /// only at the last try).
    /// </summary>
    private async Task<int> ListeningPortAsync(TimeSpan timeout, Stopwatch clock)
    {
        for (var restart = 1; ; restart++)
        {
            try
            {
                await Process.WaitForLineAsync(ListeningLine, timeout > clock.Elapsed ? timeout - clock.Elapsed : TimeSpan.Zero);
                var line = Process.FirstLineContaining(ListeningLine)!;
                var after = line[(line.IndexOf(ListeningLine, StringComparison.Ordinal) + ListeningLine.Length)..];
                return int.Parse(string.Concat(after.TakeWhile(char.IsAsciiDigit)), CultureInfo.InvariantCulture);
            }
            catch (InvalidOperationException) when (Process.HasExited
                && (Process.LogContains("address already in use") || Process.LogContains("Address already in use"))
                && restart <= PortTakenRestarts && clock.Elapsed < timeout)
            {
                await Process.DisposeAsync();
                if (!portsGiven || restart == PortTakenRestarts)
                {
                    SiloPort = LoggedProcess.FreeLoopbackPort();
                    GatewayPort = LoggedProcess.FreeLoopbackPort();
                }
                else
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
                Process = Launch();
            }
        }
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
