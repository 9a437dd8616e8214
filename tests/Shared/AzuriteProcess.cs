using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

/// <summary>
/// A real Azurite emulator (tools/azurite, installed by <c>npm ci --prefix tools/azurite</c>): its blob service and, when
/// asked, its queue service (the <c>azurite-queue</c> launcher, a process of its own), each on a free loopback port with
/// in-memory persistence, or on disk when the fault tests stop it and start it again; the process trees are killed and
/// the working folder removed on dispose.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly List<Service> services = [];
    private readonly string workFolder;

    private AzuriteProcess(string workFolder) => this.workFolder = workFolder;

    /// <summary>A connection string to the running emulator (its queue endpoint too when the queue service runs).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>CPU time the emulator has used so far (the benchmarks count it as part of the cluster's cost).</summary>
    public TimeSpan TotalProcessorTime => services.Aggregate(TimeSpan.Zero, (sum, service) => sum + service.Process.TotalProcessorTime);

    /// <summary>True while every service's process runs.</summary>
    public bool IsRunning => services.All(service => !service.Process.HasExited);

    /// <summary>The azurite-blob launcher of the npm install under <paramref name="repositoryRoot"/>.</summary>
    public static string Launcher(string repositoryRoot) => LauncherOf(repositoryRoot, "azurite-blob");

    /// <summary>The azurite-queue launcher of the npm install under <paramref name="repositoryRoot"/>.</summary>
    public static string QueueLauncher(string repositoryRoot) => LauncherOf(repositoryRoot, "azurite-queue");

    /// <summary>Starts the emulator and waits until every service listens.</summary>
    /// <param name="launcher">The azurite-blob launcher (<see cref="Launcher"/>).</param>
    /// <param name="accessLog">
    /// Whether Azurite prints a line per request (its default). The tests keep it, for the log tail of a failure; the
    /// benchmarks turn it off, since Azure Blob Storage spends none of the cluster's CPU on it.
    /// </param>
    /// <param name="queueLauncher">The azurite-queue launcher (<see cref="QueueLauncher"/>) to start the queue service too; null: blobs only.</param>
    /// <param name="onDisk">
    /// Keep the data in its working folder rather than in memory, so that <see cref="StopAsync"/> and
    /// <see cref="RestartAsync"/> keep it (a storage outage, not a loss).
    /// </param>
    /// <exception cref="InvalidOperationException">It did not start; the message holds its output.</exception>
    public static async Task<AzuriteProcess> StartAsync(string launcher, bool accessLog = true, string? queueLauncher = null, bool onDisk = false)
    {
        var azurite = new AzuriteProcess(Directory.CreateTempSubdirectory("azurite-").FullName);
        try
        {
            var blobPort = LoggedProcess.FreeLoopbackPort();
            var connection = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
                + $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};";
            azurite.services.Add(new Service("blob", blobPort, azurite.StartInfo(launcher, "blob", blobPort, accessLog, onDisk)));
            if (queueLauncher is not null)
            {
                var queuePort = LoggedProcess.FreeLoopbackPort();
                connection += $"QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};";
                azurite.services.Add(new Service("queue", queuePort, azurite.StartInfo(queueLauncher, "queue", queuePort, accessLog, onDisk)));
            }
            await Task.WhenAll(azurite.services.Select(service => service.StartAsync())).ConfigureAwait(false);
            azurite.ConnectionString = connection;
            return azurite;
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the emulator as a pod is stopped (SIGTERM; Azurite saves its metadata and exits), killing it after 30 s.</summary>
    public Task StopAsync() => Task.WhenAll(services.Select(service => service.Process.TerminateAsync(TimeSpan.FromSeconds(30))));

    /// <summary>Starts the stopped emulator again on the same ports and folder, and waits until it listens.</summary>
    public async Task RestartAsync()
    {
        if (services.Any(service => !service.Process.HasExited))
        {
            throw new InvalidOperationException("Azurite is still running; stop it first.");
        }
        foreach (var service in services)
        {
            await service.Process.DisposeAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(services.Select(service => service.StartAsync())).ConfigureAwait(false);
    }

    /// <summary>The output tails of the emulator's processes, for failure messages.</summary>
    public string Tail() => string.Join(Environment.NewLine, services.Where(service => service.Started).Select(service => service.Process.Tail()));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var service in services.Where(service => service.Started))
        {
            await service.Process.DisposeAsync().ConfigureAwait(false);
        }
        services.Clear();
        try
        {
            Directory.Delete(workFolder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not hide the caller's own outcome.
        }
    }

    private ProcessStartInfo StartInfo(string launcher, string service, int port, bool accessLog, bool onDisk)
    {
        var start = new ProcessStartInfo(launcher) { WorkingDirectory = workFolder };
        // No --skipApiVersionCheck: the tests prove that the clients' pinned service versions are ones Azurite accepts.
        // --disableTelemetry: Azurite otherwise reports every request to Application Insights, from the tests' machine.
        var arguments = new List<string> { $"--{service}Host", "127.0.0.1", $"--{service}Port", port.ToString(CultureInfo.InvariantCulture), "--disableTelemetry" };
        arguments.AddRange(onDisk ? ["--location", workFolder] : ["--inMemoryPersistence"]);
        if (!accessLog)
        {
            arguments.Add("--silent");
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    private static string LauncherOf(string repositoryRoot, string name) => Path.Combine(repositoryRoot, "tools", "azurite", "node_modules", ".bin",
        OperatingSystem.IsWindows() ? name + ".cmd" : name);

    /// <summary>One Azurite service: its process, started again on the same port by a restart.</summary>
    private sealed class Service(string name, int port, ProcessStartInfo start)
    {
        private LoggedProcess? process;

        public LoggedProcess Process => process ?? throw new InvalidOperationException($"Azurite's {name} service was not started.");

        public bool Started => process is not null;

        public async Task StartAsync()
        {
            process = LoggedProcess.Start($"azurite-{name}", start);
            try
            {
                await process.WaitForLineAsync("successfully listens", StartTimeout).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"Azurite's {name} service did not start on port {port}: {e.Message}", e);
            }
        }
    }
}
