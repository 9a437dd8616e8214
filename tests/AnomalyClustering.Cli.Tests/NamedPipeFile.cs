using System.Diagnostics;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// A named pipe (FIFO) made for a test, named like an image. Should the code under test open it for reading anyway, that
/// open would wait for a writer forever; after <c>unblockAfter</c> this opens it itself, so that such a regression fails
/// the test (the reader then sees an empty file) instead of hanging the run.
/// </summary>
internal sealed class NamedPipeFile : IDisposable
{
    private readonly CancellationTokenSource _disposed = new();

    private NamedPipeFile(string path) => Path = path;

    /// <summary>The pipe's path.</summary>
    public string Path { get; }

    /// <summary>Makes the pipe at <paramref name="path"/>; skips the test on Windows (no named pipes in folders).</summary>
    public static NamedPipeFile Create(string path, TimeSpan unblockAfter)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "a named pipe named like an image is a Unix file");
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var pipe = new NamedPipeFile(path);
        _ = pipe.UnblockReaderAsync(unblockAfter);
        return pipe;
    }

    private async Task UnblockReaderAsync(TimeSpan after)
    {
        try
        {
            await Task.Delay(after, _disposed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        // Opened for reading and writing, a FIFO opens at once, and a reader waiting in its open goes on.
        using var both = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite);
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
