using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

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

    private LoggedProcess? process;
    private string? workFolder;

    /// <summary>Why the Azure tests cannot run here, or null when Azurite is running.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>A connection string to the running emulator.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The azurite-blob launcher inside the committed npm manifest's install.</summary>
    public static string Launcher => Path.Combine(TestPaths.RepositoryRoot, "tools", "azurite", "node_modules", ".bin",
        OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");

    /// <summary>Why Azurite cannot be started here (its launcher is not installed), or null.</summary>
    public static string? MissingReason => File.Exists(Launcher)
        ? null
        : $"Azurite is not installed ({Launcher} is missing); run: npm ci --prefix tools/azurite";

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        SkipReason = MissingReason;
        if (SkipReason is not null)
        {
            return;
        }
        workFolder = Directory.CreateTempSubdirectory("azurite-").FullName;
        var port = LoggedProcess.FreeLoopbackPort();
        var start = new ProcessStartInfo(Launcher) { WorkingDirectory = workFolder };
        // No --skipApiVersionCheck: the tests prove that the store's pinned service version is one Azurite accepts.
        foreach (var argument in new[] { "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence" })
        {
            start.ArgumentList.Add(argument);
        }
        process = LoggedProcess.Start("azurite", start);
        try
        {
            await process.WaitForLineAsync("successfully listens", StartTimeout);
        }
        catch (InvalidOperationException e)
        {
            await DisposeAsync();
            throw new InvalidOperationException($"Azurite did not start on port {port}: {e.Message}", e);
        }
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
            + $"BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
            process = null;
        }
        if (workFolder is not null && Directory.Exists(workFolder))
        {
            Directory.Delete(workFolder, recursive: true);
            workFolder = null;
        }
    }
}
