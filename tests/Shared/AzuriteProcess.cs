using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

/// <summary>
/// A real Azurite emulator (tools/azurite, installed by <c>npm ci --prefix tools/azurite</c>): its blob service and, when
/// asked, its queue service (the <c>azurite-queue</c> launcher, a process of its own), each on a free loopback port with
/// in-memory persistence; the process trees are killed and the working folder removed on dispose.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's fixed development account and key (public, documented by Microsoft).</summary>
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly List<LoggedProcess> processes = [];
    private readonly string workFolder;

    private AzuriteProcess(string workFolder) => this.workFolder = workFolder;

    /// <summary>A connection string to the running emulator (its queue endpoint too when the queue service runs).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>CPU time the emulator has used so far (the benchmarks count it as part of the cluster's cost).</summary>
    public TimeSpan TotalProcessorTime => processes.Aggregate(TimeSpan.Zero, (sum, process) => sum + process.TotalProcessorTime);

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
    /// <exception cref="InvalidOperationException">It did not start; the message holds its output.</exception>
    public static async Task<AzuriteProcess> StartAsync(string launcher, bool accessLog = true, string? queueLauncher = null)
    {
        var azurite = new AzuriteProcess(Directory.CreateTempSubdirectory("azurite-").FullName);
        try
        {
            var blobPort = LoggedProcess.FreeLoopbackPort();
            var connection = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
                + $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};";
            var starts = new List<Task> { azurite.StartServiceAsync(launcher, "blob", blobPort, accessLog) };
            if (queueLauncher is not null)
            {
                var queuePort = LoggedProcess.FreeLoopbackPort();
                connection += $"QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};";
                starts.Add(azurite.StartServiceAsync(queueLauncher, "queue", queuePort, accessLog));
            }
            await Task.WhenAll(starts).ConfigureAwait(false);
            azurite.ConnectionString = connection;
            return azurite;
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The output tails of the emulator's processes, for failure messages.</summary>
    public string Tail() => string.Join(Environment.NewLine, processes.Select(process => process.Tail()));

    private async Task StartServiceAsync(string launcher, string service, int port, bool accessLog)
    {
        var start = new ProcessStartInfo(launcher) { WorkingDirectory = workFolder };
        // No --skipApiVersionCheck: the tests prove that the clients' pinned service versions are ones Azurite accepts.
        // --disableTelemetry: Azurite otherwise reports every request to Application Insights, from the tests' machine.
        var arguments = new List<string>
        {
            $"--{service}Host", "127.0.0.1", $"--{service}Port", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--disableTelemetry",
        };
        if (!accessLog)
        {
            arguments.Add("--silent");
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var process = LoggedProcess.Start($"azurite-{service}", start);
        lock (processes)
        {
            processes.Add(process);
        }
        try
        {
            await process.WaitForLineAsync("successfully listens", StartTimeout).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Azurite's {service} service did not start on port {port}: {e.Message}", e);
        }
    }

    private static string LauncherOf(string repositoryRoot, string name) => Path.Combine(repositoryRoot, "tools", "azurite", "node_modules", ".bin",
        OperatingSystem.IsWindows() ? name + ".cmd" : name);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
        processes.Clear();
        try
        {
            Directory.Delete(workFolder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not hide the caller's own outcome.
        }
    }
}
