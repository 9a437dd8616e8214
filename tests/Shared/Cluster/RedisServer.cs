using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

/// <summary>
/// A real redis-server (the Debian package) on a free loopback port, with no persistence (<c>--save '' --appendonly no</c>)
/// or, when asked, with an append-only file synced at every write (as the dev overlay keeps its data), and its working
/// folder in a temporary directory; it can be stopped and started again on the same port and data (the fault tests);
/// stopped, and the folder removed, on dispose.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string executable;
    private readonly string folder;
    private readonly bool appendOnly;
    private LoggedProcess process;

    private RedisServer(string executable, string folder, int port, bool appendOnly)
    {
        this.executable = executable;
        this.folder = folder;
        this.appendOnly = appendOnly;
        Port = port;
        process = Launch();
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The redis-server executable on PATH, or null.</summary>
    public static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    /// <param name="executable">The redis-server executable (<see cref="FindExecutable"/>).</param>
    /// <param name="appendOnly">Keep the data in an append-only file fsynced at every write, so that a restart (even after a kill) finds it.</param>
    public static async Task<RedisServer> StartAsync(string executable, bool appendOnly = false)
    {
        var server = new RedisServer(executable, Directory.CreateTempSubdirectory("redis-").FullName, LoggedProcess.FreeLoopbackPort(), appendOnly);
        try
        {
            await server.WaitReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>True while the server process runs.</summary>
    public bool IsRunning => !process.HasExited;

    /// <summary>Kills the server (a crash: what was acknowledged is in the append-only file, if it keeps one).</summary>
    public Task KillAsync() => process.KillAsync();

    /// <summary>
    /// Starts the server again on the same port; with <paramref name="empty"/>, after deleting its data (a Redis that lost
    /// its volume). Waits until it accepts connections and has loaded its data.
    /// </summary>
    public async Task RestartAsync(bool empty = false)
    {
        if (!process.HasExited)
        {
            throw new InvalidOperationException("redis-server is still running; kill it first.");
        }
        if (empty)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder))
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
        await process.DisposeAsync();
        process = Launch();
        await WaitReadyAsync();
    }

    private LoggedProcess Launch()
    {
        var start = new ProcessStartInfo(executable) { WorkingDirectory = folder };
        foreach (var argument in new[]
                 {
                     "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always",
                     "--dir", folder, "--daemonize", "no", "--loglevel", "notice",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        return LoggedProcess.Start("redis-server", start);
    }

    // Redis prints it once the data (the append-only file) is loaded.
    private Task WaitReadyAsync() => process.WaitForLineAsync("Ready to accept connections", StartTimeout);

    /// <summary>CPU time the server has used so far (the benchmarks count it as part of the cluster's cost).</summary>
    public TimeSpan TotalProcessorTime => process.TotalProcessorTime;

    /// <summary>The tail of its log.</summary>
    public string Tail() => process.Tail();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not hide the test's own outcome.
        }
    }
}
