using System.Diagnostics;
using System.Text.RegularExpressions;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// A killed embedded run (power cut, out of memory, SIGKILL) loses nothing: its job stays in the store and the same command
/// resumes it, doing only the images not yet done, to the same clusters as a run that was never interrupted.
/// </summary>
public sealed partial class InterruptedRunTests
{
    // Small embeddings and one thread: a run of a few seconds that is still long enough to be killed half-way.
    private static readonly string[] Options = ["--mode", "unsupervised", "-k", "3", "--threads", "1", "--pretrain-dim", "64", "--target-dim", "64"];
    private const int ImagesPerType = 40;

    [Fact]
    public void AKilledRunIsResumedByTheSameCommandToTheSameClusters()
    {
        using var folder = new TempFolder();
        var (images, store, command) = KillHalfWay(folder, seed: 1);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(store, "grain-state"), "*.grain"));

        // Another job on the same store (other options) runs afresh and says that the kept one waits there.
        var other = CliRun.Executable(["cluster", images, "-o", folder.Combine("other"), "--store", store, .. Options, "--tau", "0.5"]);
        Assert.True(other.ExitCode == 0, other.Error);
        Assert.DoesNotContain("resuming", other.Output);
        Assert.Matches(@"also holds 1 job\(s\) that interrupted runs left with other images or options \([1-9][0-9.]* MB", other.Output);

        var resumed = CliRun.Executable(command);
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        var done = ResumedLine().Match(resumed.Output);
        Assert.True(done.Success, "the resumed run does not say it resumed:\n" + resumed.Output);
        // Images done before the kill are not done again, and some were left. The count is the coordinator's last checkpoint
        // (every 2 s), behind the shards' own: stopping at half the images rather than at the first ones leaves it time to write one.
        Assert.InRange(int.Parse(done.Groups["done"].Value), 1, 3 * ImagesPerType - 1);
        Assert.Equal($"{3 * ImagesPerType}", done.Groups["total"].Value);

        var uninterrupted = CliRun.Executable(["cluster", images, "-o", folder.Combine("reference"), "--store", folder.Combine("reference-store"), .. Options]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Error);
        Assert.DoesNotContain("resuming", uninterrupted.Output);
        Assert.Equal(File.ReadAllText(folder.Combine("reference", "clusters.csv")), File.ReadAllText(folder.Combine("out", "clusters.csv")));

        // The finished job left nothing to resume: its state, blobs and uploads are gone, so the next run starts afresh.
        Assert.False(Directory.Exists(Path.Combine(store, "blobs", "jobs")) && Directory.EnumerateFileSystemEntries(Path.Combine(store, "blobs", "jobs")).Any());
        Assert.False(Directory.Exists(Path.Combine(store, "blobs", "uploads")) && Directory.EnumerateFileSystemEntries(Path.Combine(store, "blobs", "uploads")).Any());
        var again = CliRun.Executable(command);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.DoesNotContain("resuming", again.Output);
    }

    [Fact]
    public void CtrlCKeepsASubmittedJobForTheSameCommandToResume()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        WriteImages(images, ImagesPerType, (DefectType.Good, 4), (DefectType.Stain, 5), (DefectType.Crack, 6));
        string[] command = ["cluster", images, "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Options];

        // A process started in the background by a shell without job control (e.g. 'bash -c "... &"') ignores SIGINT, and
        // so do its children: .NET then installs no handler and the run goes on to the end (exit 0, seen in a CI run started
        // so). There SIGTERM, which takes the same path (a stopping process keeps its job), stands in for Ctrl+C.
        var (exitCode, error) = StopOnceImagesAreDone(command, atLeast: ImagesPerType * 3 / 2, signal: SigIntIgnored() ? "TERM" : "INT");

        Assert.Equal(CliExitCodes.Cancelled, exitCode);
        Assert.Contains("stopped: the job is kept in", error);
        var resumed = CliRun.Executable(command);
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        var done = ResumedLine().Match(resumed.Output);
        Assert.True(done.Success, "the run after Ctrl+C does not say it resumed:\n" + resumed.Output);
        Assert.InRange(int.Parse(done.Groups["done"].Value), 1, 3 * ImagesPerType - 1);
    }

    [Fact]
    public void StoreListShowsAKeptJobAndStoreDropDeletesItButNotTheFeatureCache()
    {
        using var folder = new TempFolder();
        var (images, store, command) = KillHalfWay(folder, seed: 7);

        var list = CliRun.Executable("store", "list", "--store", store);
        Assert.True(list.ExitCode == 0, list.Error);
        var row = KeptJobRow().Match(list.Output);
        Assert.True(row.Success, "store list shows no kept job:\n" + list.Output);
        Assert.InRange(int.Parse(row.Groups["done"].Value), 1, 3 * ImagesPerType);
        Assert.Equal($"{3 * ImagesPerType}", row.Groups["total"].Value);
        Assert.Contains("kept: its command resumes it", list.Output);
        Assert.Contains(Path.GetFullPath(images), list.Output);
        var id = row.Groups["id"].Value;

        // While a process holds the job (here: this one), it is not dropped.
        using (EmbeddedJobLock.TryTake(store, id))
        {
            CliRun.Executable("store", "drop", id, "--store", store).AssertOneLineError(CliExitCodes.InputError, "runs in another process");
            Assert.Contains("holds no kept jobs to drop (1 run in other processes now)", CliRun.Executable("store", "drop", "--all", "--store", store).Output);
        }
        CliRun.InProcess("store", "drop", "cli-unknown", "--store", store).AssertOneLineError(CliExitCodes.InputError, "holds no job 'cli-unknown'");
        CliRun.InProcess("store", "drop", "--store", store).AssertOneLineError(CliExitCodes.InputError, "name the jobs to drop");

        // The feature cache (keyed by image content, shared by every job over the same images) is not the job's; its pins
        // of the cache entries it needs are.
        var cacheFiles = Directory.GetFiles(Path.Combine(store, "blobs", FeatureCacheKey.BlobPrefix), "*", SearchOption.AllDirectories);
        var pins = Path.Combine(store, "blobs", FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner(id)));
        Assert.NotEmpty(cacheFiles);
        var drop = CliRun.Executable("store", "drop", id, "--store", store);
        Assert.True(drop.ExitCode == 0, drop.Error + drop.Output);
        Assert.Contains($"dropped {id}", drop.Output);
        Assert.Contains("holds no kept jobs", CliRun.Executable("store", "list", "--store", store).Output);
        Assert.All(cacheFiles, path => Assert.True(File.Exists(path), path + " was deleted with the job"));
        Assert.False(Directory.Exists(pins) && Directory.EnumerateFiles(pins, "*", SearchOption.AllDirectories).Any(), "the job's pins outlived it");
        var again = CliRun.Executable(command);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.DoesNotContain("resuming", again.Output);
    }

    [Fact]
    public void TheJobIdIsTheSameForTheSameFilesAndOptionsOnly()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 2, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 2, seed: 2);
        var dataset = new ClusteringDataset(Directory.GetFiles(images).Order().Select(path => new DatasetImage(Path.GetFileName(path), path)).ToArray());
        var options = Grains.Jobs.JobOptionsMapping.FromPipelineOptions(new ClusteringJobOptions { ClusterCount = 2 });

        var id = EmbeddedJobIdentity.Of(dataset, options, "{}");
        Assert.Equal(id, EmbeddedJobIdentity.Of(dataset, options, "{}"));
        Assert.NotEqual(id, EmbeddedJobIdentity.Of(dataset, options with { Clusters = 3 }, "{}"));
        Assert.NotEqual(id, EmbeddedJobIdentity.Of(dataset, options, """{"name":"other"}"""));
        // A file rewritten since (a new last-write time) makes another job: the kept one clustered other bytes.
        File.SetLastWriteTimeUtc(dataset.Images[0].Path, DateTime.UtcNow.AddMinutes(-5));
        Assert.NotEqual(id, EmbeddedJobIdentity.Of(dataset, options, "{}"));
    }

    [Fact]
    public void AJobRunningInAnotherProcessKeepsItsLockUntilThatProcessEnds()
    {
        using var folder = new TempFolder();
        using (var held = EmbeddedJobLock.TryTake(folder.Path, "cli-a"))
        {
            Assert.NotNull(held);
            Assert.Null(EmbeddedJobLock.TryTake(folder.Path, "cli-a"));
            using var other = EmbeddedJobLock.TryTake(folder.Path, "cli-b");
            Assert.NotNull(other);
        }
        using var again = EmbeddedJobLock.TryTake(folder.Path, "cli-a");
        Assert.NotNull(again);
    }

    /// <summary>
    /// Writes images of three defect types (seeds from <paramref name="seed"/>) under <paramref name="folder"/>, runs the cluster
    /// command on them with a store there and kills it half-way: the job is then kept in the store. Returns the images' folder,
    /// the store and the command.
    /// </summary>
    private static (string Images, string Store, string[] Command) KillHalfWay(TempFolder folder, int seed)
    {
        var images = folder.Combine("images");
        WriteImages(images, ImagesPerType, (DefectType.Good, seed), (DefectType.Hole, seed + 1), (DefectType.Scratch, seed + 2));
        var store = folder.Combine("store");
        string[] command = ["cluster", images, "-o", folder.Combine("out"), "--store", store, .. Options];
        KillOnceImagesAreDone(command, atLeast: ImagesPerType * 3 / 2);
        return (images, store, command);
    }

    /// <summary>Whether this process ignores SIGINT (its children inherit that): bit 2 of SigIgn in /proc/self/status (Linux).</summary>
    private static bool SigIntIgnored()
    {
        const string status = "/proc/self/status";
        var line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }

    /// <summary><paramref name="perType"/> generated images of each type into one flat folder, named by type.</summary>
    private static void WriteImages(string folder, int perType, params (DefectType Type, int Seed)[] types)
    {
        foreach (var (type, seed) in types)
        {
            SyntheticImages.Write(folder, type, perType, seed, prefix: type.ToString().ToLowerInvariant() + "-");
        }
    }

    /// <summary>Starts the command as a process and kills it (SIGKILL) once its progress shows <paramref name="atLeast"/> images done.</summary>
    private static void KillOnceImagesAreDone(string[] command, int atLeast) => StopOnceImagesAreDone(command, atLeast, signal: null);

    /// <summary>
    /// Starts the command as a process and, once its progress shows <paramref name="atLeast"/> images done, kills it (no
    /// <paramref name="signal"/>) or sends it <paramref name="signal"/> (e.g. INT, as Ctrl+C does) and waits for it to end;
    /// returns its exit code and standard error.
    /// </summary>
    private static (int ExitCode, string Error) StopOnceImagesAreDone(string[] command, int atLeast, string? signal)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "anomaly-cluster.dll"));
        foreach (var arg in command)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove(CliApplication.TraceVariable);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var seen = new List<string>();
        // Generous: a loaded CI machine starts the silo and the backbone slowly; the progress line is the signal, not a time.
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromMinutes(5);
        string? line;
        while (deadline.Elapsed < limit && (line = ReadLine(process, limit - deadline.Elapsed)) is not null)
        {
            seen.Add(line);
            if (ProgressLine().Match(line) is { Success: true } progress && int.Parse(progress.Groups["done"].Value) >= atLeast)
            {
                if (signal is null)
                {
                    process.Kill(entireProcessTree: true);
                }
                else
                {
                    using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    kill.WaitForExit();
                    // The rest of its output, so that it is not blocked writing while it stops.
                    _ = process.StandardOutput.ReadToEndAsync();
                }
                if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
                {
                    process.Kill(entireProcessTree: true);
                    Assert.Fail($"the run did not end within 2 minutes of SIG{signal}.");
                }
                return (process.ExitCode, error.Result);
            }
        }
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        throw new Xunit.Sdk.XunitException($"the run ended or stalled for {limit.TotalMinutes} minutes before {atLeast} images were done (exit {process.ExitCode}):\n"
            + string.Join('\n', seen) + "\n" + error.Result);
    }

    private static string? ReadLine(Process process, TimeSpan wait)
    {
        try
        {
            return process.StandardOutput.ReadLineAsync().WaitAsync(wait).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"embedding and weighing images: \d+ % \((?<done>\d+)/\d+\)")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"(?<id>cli-[0-9a-f]{32}) +│ [0-9-]+ [0-9:]+ +│ (?<done>\d+) of (?<total>\d+) +│ unsupervised, 3 ")]
    private static partial Regex KeptJobRow();

    [GeneratedRegex(@"resuming the job .*: (?<done>\d+) of (?<total>\d+) images were done")]
    private static partial Regex ResumedLine();
}
