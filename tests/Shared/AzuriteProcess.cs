using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

/// <summary>
/// A real Azurite blob emulator (tools/azurite, installed by <c>npm ci --prefix tools/azurite</c>) on a free loopback port
/// with in-memory persistence, or on disk when the fault tests stop it and start it again; its process tree is killed and
/// its working folder removed on dispose.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's fixed development account and key (public, documented by Microsoft).</summary>
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly ProcessStartInfo start;
    private readonly string workFolder;
    private readonly int port;
    private LoggedProcess process;

    private AzuriteProcess(ProcessStartInfo start, string workFolder, int port)
    {
        this.start = start;
        this.workFolder = workFolder;
        this.port = port;
        process = LoggedProcess.Start("azurite", start);
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
            + $"BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";
    }

    /// <summary>A connection string to the running emulator.</summary>
    public string ConnectionString { get; }

    /// <summary>CPU time the emulator has used so far (the benchmarks count it as part of the cluster's cost).</summary>
    public TimeSpan TotalProcessorTime => process.TotalProcessorTime;

    /// <summary>The azurite-blob launcher of the npm install under <paramref name="repositoryRoot"/>.</summary>
    public static string Launcher(string repositoryRoot) => Path.Combine(repositoryRoot, "tools", "azurite", "node_modules", ".bin",
        OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");

    /// <summary>Starts the emulator and waits until it listens.</summary>
    /// <param name="launcher">The azurite-blob launcher (<see cref="Launcher"/>).</param>
    /// <param name="accessLog">
    /// Whether Azurite prints a line per request (its default). The tests keep it, for the log tail of a failure; the
    /// benchmarks turn it off, since Azure Blob Storage spends none of the cluster's CPU on it.
    /// </param>
    /// <param name="onDisk">
    /// Keep the blobs in its working folder rather than in memory, so that <see cref="StopAsync"/> and
    /// <see cref="RestartAsync"/> keep them (a storage outage, not a loss).
    /// </param>
    /// <exception cref="InvalidOperationException">It did not start; the message holds its output.</exception>
    public static async Task<AzuriteProcess> StartAsync(string launcher, bool accessLog = true, bool onDisk = false)
    {
        var workFolder = Directory.CreateTempSubdirectory("azurite-").FullName;
        var port = LoggedProcess.FreeLoopbackPort();
        var start = new ProcessStartInfo(launcher) { WorkingDirectory = workFolder };
        // No --skipApiVersionCheck: the tests prove that the store's pinned service version is one Azurite accepts.
        // --disableTelemetry: Azurite otherwise reports every request to Application Insights, from the tests' machine.
        var arguments = new List<string>
        {
            "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--disableTelemetry",
        };
        arguments.AddRange(onDisk ? ["--location", workFolder] : ["--inMemoryPersistence"]);
        if (!accessLog)
        {
            arguments.Add("--silent");
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var azurite = new AzuriteProcess(start, workFolder, port);
        try
        {
            await azurite.WaitListeningAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return azurite;
    }

    /// <summary>Stops the emulator as a pod is stopped (SIGTERM; Azurite saves its metadata and exits), killing it after 30 s.</summary>
    public Task StopAsync() => process.TerminateAsync(TimeSpan.FromSeconds(30));

    /// <summary>Starts the stopped emulator again on the same port and folder, and waits until it listens.</summary>
    public async Task RestartAsync()
    {
        if (!process.HasExited)
        {
            throw new InvalidOperationException("Azurite is still running; stop it first.");
        }
        await process.DisposeAsync().ConfigureAwait(false);
        process = LoggedProcess.Start("azurite", start);
        await WaitListeningAsync().ConfigureAwait(false);
    }

    /// <summary>True while the emulator process runs.</summary>
    public bool IsRunning => !process.HasExited;

    /// <summary>The tail of its log.</summary>
    public string Tail() => process.Tail();

    private async Task WaitListeningAsync()
    {
        try
        {
            await process.WaitForLineAsync("successfully listens", StartTimeout).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Azurite did not start on port {port}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync().ConfigureAwait(false);
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
