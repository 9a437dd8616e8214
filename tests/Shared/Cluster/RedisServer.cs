using System.Diagnostics;
using System.Globalization;

namespace AnomalyClustering.Testing;

/// <summary>
/// A real redis-server (the Debian package) on a free loopback port, with no persistence (<c>--save '' --appendonly no</c>)
/// and its working folder in a temporary directory; stopped, and the folder removed, on dispose.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly LoggedProcess process;
    private readonly string folder;

    private RedisServer(LoggedProcess process, string folder, int port)
    {
        this.process = process;
        this.folder = folder;
        Port = port;
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
    public static async Task<RedisServer> StartAsync(string executable)
    {
        var folder = Directory.CreateTempSubdirectory("redis-").FullName;
        var port = LoggedProcess.FreeLoopbackPort();
        var start = new ProcessStartInfo(executable) { WorkingDirectory = folder };
        foreach (var argument in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", folder, "--daemonize", "no", "--loglevel", "notice",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        var process = LoggedProcess.Start("redis-server", start);
        var server = new RedisServer(process, folder, port);
        try
        {
            await process.WaitForLineAsync("Ready to accept connections", StartTimeout);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

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
