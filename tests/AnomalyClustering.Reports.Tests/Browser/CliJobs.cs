using AnomalyClustering.Testing;
using AnomalyClustering.Cli;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Tests.Browser;

/// <summary>Runs anomaly-cluster in this process, as a user would from the shell, and reads back what a job wrote.</summary>
internal static class CliJobs
{
    /// <summary>Runs the CLI; fails the test with its output when it does not succeed.</summary>
    public static string Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = CliApplication.RunAsync(args, CliConsole.ForWriters(output, error)).GetAwaiter().GetResult();
        Assert.True(exitCode == 0, $"anomaly-cluster {string.Join(' ', args)} exited {exitCode}:\n{error}\n{output}");
        return output.ToString();
    }

    /// <summary>The result and source in a result.json.</summary>
    public static (ClusteringResult Result, ResultSource Source) ReadResult(string path)
    {
        return ResultFolder.ReadResultFile(path);
    }

    /// <summary>A fresh temporary folder.</summary>
    public static string TemporaryFolder(string name)
    {
        return IsolatedCacheFolder.NewScratchFolder(name);
    }
}

/// <summary>One real small job for the browser tests: the demo (synthetic product line, built-in backbone) run through the CLI once.</summary>
public sealed class DemoJobFixture : IDisposable
{
    /// <summary>Runs <c>anomaly-cluster demo</c> with 4 images per class (24 images, 6 classes).</summary>
    public DemoJobFixture()
    {
        Folder = CliJobs.TemporaryFolder("demo");
        CliJobs.Run("demo", "--out", Folder, "--images-per-class", "4");
        ResultFolder = Path.Combine(Folder, "results");
        (Result, Source) = CliJobs.ReadResult(Path.Combine(ResultFolder, "result.json"));
    }

    /// <summary>The demo's output folder (images and results).</summary>
    public string Folder { get; }

    /// <summary>Where the demo wrote result.json and report.html.</summary>
    public string ResultFolder { get; }

    /// <summary>The report the demo wrote.</summary>
    public string ReportPath => Path.Combine(ResultFolder, ClusterReport.FileName);

    /// <summary>The job's result as written.</summary>
    public ClusteringResult Result { get; }

    /// <summary>Where it came from.</summary>
    public ResultSource Source { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner; a test's own failure matters more.
        }
    }
}
