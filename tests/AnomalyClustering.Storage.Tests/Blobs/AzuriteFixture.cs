using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>
/// A real Azurite blob emulator for the tests of one class: started from tools/azurite on a free loopback port
/// with in-memory persistence, stopped (its whole process tree) at the end. Absent installation: tests skip.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's fixed development account and key (public, documented by Microsoft).</summary>
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private Process? process;
    private string? workFolder;

    /// <summary>Why the Azure tests cannot run here, or null when Azurite is running.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>A connection string to the running emulator.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The azurite-blob launcher inside the committed npm manifest's install.</summary>
    public static string Launcher => Path.Combine(TestPaths.RepositoryRoot, "tools", "azurite", "node_modules", ".bin",
        OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Launcher))
        {
            SkipReason = $"Azurite is not installed ({Launcher} is missing); run: npm ci --prefix tools/azurite";
            return;
        }
        workFolder = Directory.CreateTempSubdirectory("azurite-").FullName;
        var port = FreeLoopbackPort();
        var output = new StringBuilder();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo(Launcher)
        {
            WorkingDirectory = workFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No --skipApiVersionCheck: the tests prove that the store's pinned service version is one Azurite accepts.
        foreach (var argument in new[]
                 {
                     "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--inMemoryPersistence",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler collect = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (output)
            {
                output.AppendLine(e.Data);
            }
            if (e.Data.Contains("successfully listens", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += collect;
        process.ErrorDataReceived += collect;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("Azurite exited during start-up."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(StartTimeout);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await DisposeAsync();
            string log;
            lock (output)
            {
                log = output.ToString();
            }
            throw new InvalidOperationException($"Azurite did not start on port {port}: {e.Message}\n{log}", e);
        }
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
            + $"BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                    await process.WaitForExitAsync(timeout.Token);
                }
            }
            catch (InvalidOperationException)
            {
                // Never started or already reaped: nothing left to stop.
            }
            process.Dispose();
            process = null;
        }
        if (workFolder is not null && Directory.Exists(workFolder))
        {
            Directory.Delete(workFolder, recursive: true);
            workFolder = null;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
