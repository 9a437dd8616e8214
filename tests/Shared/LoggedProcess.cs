using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AnomalyClustering.Testing;

/// <summary>
/// A child process of a test (an emulator, a server, a silo) whose stdout and stderr are kept line by line, so that a
/// test can wait for a line, search the log, and show its tail when something goes wrong. Every line is also written, as
/// it arrives, to a file of its own under <see cref="LogFolder"/>, so that the whole output of a process (one killed and
/// replaced mid-test too) can be read after a failure, even one that hung the test. <see cref="DisposeAsync"/> kills the
/// whole process tree: nothing is left running after a test, whatever happened.
/// </summary>
internal sealed partial class LoggedProcess : IAsyncDisposable
{
    private const int TailLines = 60;

    private static readonly Lazy<string> Folder = new(() => Directory.CreateDirectory(Path.Combine(
        AppContext.BaseDirectory, "process-logs", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}")).FullName);

    private readonly Process process;
    private readonly List<string> lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> waiters = [];
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamWriter? logFile;
    private int processId;

    private LoggedProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    /// <summary>
    /// The folder of this test run's process logs (<c>process-logs/&lt;UTC time&gt;-&lt;test process id&gt;</c> beside the
    /// test assembly): one file per process, named after it and its process id.
    /// </summary>
    public static string LogFolder => Folder.Value;

    /// <summary>A name for messages (e.g. <c>redis</c>, <c>silo worker-1</c>).</summary>
    public string Name { get; }

    /// <summary>The file that holds the process's whole output (null before it started).</summary>
    public string? LogPath { get; private set; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => exited.Task.IsCompleted;

    /// <summary>CPU time the process has used so far (user + system, all its threads).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <paramref name="start"/> (its output redirected here) and begins collecting its lines.</summary>
    public static LoggedProcess Start(string name, ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = false;
        start.UseShellExecute = false;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var logged = new LoggedProcess(name, process);
        process.OutputDataReceived += (_, e) => logged.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => logged.Collect(e.Data);
        process.Exited += (_, _) => logged.exited.TrySetResult();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"{name}: cannot start '{start.FileName}': {e.Message}", e);
        }
        logged.OpenLogFile(process.Id);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return logged;
    }

    /// <summary>True when some line so far contains <paramref name="fragment"/>.</summary>
    public bool LogContains(string fragment) => FirstLineContaining(fragment) is not null;

    /// <summary>The first line of output so far that contains <paramref name="fragment"/>; null when none does.</summary>
    public string? FirstLineContaining(string fragment)
    {
        lock (lines)
        {
            return lines.FirstOrDefault(line => line.Contains(fragment, StringComparison.Ordinal));
        }
    }

    /// <summary>The last lines of output, for failure messages.</summary>
    public string Tail()
    {
        lock (lines)
        {
            var tail = lines.Skip(Math.Max(0, lines.Count - TailLines));
            return $"--- last {Math.Min(TailLines, lines.Count)} of {lines.Count} lines of {Name} (pid {processId}{(HasExited ? $", exited with {ExitCodeText()}" : "")}; "
                + $"all of them in {LogPath}) ---\n" + string.Join('\n', tail);
        }
    }

    /// <summary>
    /// Waits until a line containing <paramref name="fragment"/> appears (also one already seen). Throws, with the tail of
    /// the output, when the process exits first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitForLineAsync(string fragment, TimeSpan timeout)
    {
        TaskCompletionSource seen;
        lock (lines)
        {
            if (lines.Any(line => line.Contains(fragment, StringComparison.Ordinal)))
            {
                return;
            }
            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((line => line.Contains(fragment, StringComparison.Ordinal), seen));
        }
        var finished = await Task.WhenAny(seen.Task, exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        if (finished != seen.Task)
        {
            // Output still in the pipe when the process exits is delivered just after; give it a moment.
            await Task.Delay(200).ConfigureAwait(false);
            if (seen.Task.IsCompleted)
            {
                return;
            }
            var why = HasExited ? "it exited first" : $"it did not print it within {timeout.TotalSeconds:F0} s";
            throw new InvalidOperationException($"{Name}: waited for a line containing '{fragment}' but {why}.\n{Tail()}");
        }
    }

    /// <summary>Kills the process tree at once (SIGKILL: no graceful shutdown, as a crash) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited and reaped.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{Name} (pid {processId}) did not exit within 20 s of being killed.");
        }
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM, as Kubernetes stops a pod) and waits up to <paramref name="gracePeriod"/> for it
    /// to exit on its own; after that it is killed, as Kubernetes would. Returns true when it exited on its own.
    /// </summary>
    public async Task<bool> TerminateAsync(TimeSpan gracePeriod)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            await KillAsync().ConfigureAwait(false);
            return false;
        }
        if (!process.HasExited && SendSignal(process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"{Name} (pid {processId}): SIGTERM could not be sent (errno {Marshal.GetLastPInvokeError()}).");
        }
        using var timeout = new CancellationTokenSource(gracePeriod);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
            return false;
        }
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        finally
        {
            process.Dispose();
            // The output was read to its end by the wait for exit: nothing more arrives.
            lock (lines)
            {
                logFile?.Dispose();
                logFile = null;
            }
        }
    }

    /// <summary>
    /// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it) and that this test process has not handed out
    /// before: the OS may give a port just released to the next asker, and two test classes starting processes at once
    /// got the same port (a silo then found its HTTP port taken, and the other cluster's silo answered its readiness probe).
    /// Another process may still take it before it is bound (the cluster tests' silos start again when that happens).
    /// </summary>
    public static int FreeLoopbackPort()
    {
        // Ports handed out before stay bound until a new one is found: released at once, the OS could give them back.
        var refused = new List<TcpListener>();
        try
        {
            while (true)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                refused.Add(listener);
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                lock (IssuedPorts)
                {
                    if (IssuedPorts.Add(port))
                    {
                        return port;
                    }
                }
            }
        }
        finally
        {
            foreach (var listener in refused)
            {
                listener.Dispose();
            }
        }
    }

    private static readonly HashSet<int> IssuedPorts = [];

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (lines)
        {
            lines.Add(line);
            logFile?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (waiters[i].Match(line))
                {
                    waiters[i].Seen.TrySetResult();
                    waiters.RemoveAt(i);
                }
            }
        }
    }

    private void OpenLogFile(int id)
    {
        processId = id;
        var safeName = string.Concat(Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        LogPath = Path.Combine(LogFolder, $"{safeName}-{id.ToString(System.Globalization.CultureInfo.InvariantCulture)}.log");
        lock (lines)
        {
            logFile = new StreamWriter(LogPath, append: false, Encoding.UTF8) { AutoFlush = true };
        }
    }

    private string ExitCodeText()
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown code";
        }
    }
}
