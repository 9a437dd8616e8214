using System.Text.RegularExpressions;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Tests;

namespace AnomalyClustering.Silo.Tests;

/// <summary>The CLI's remote mode (<c>cluster --server</c>, <c>jobs ...</c>) run in-process against the in-process server.</summary>
public sealed partial class RemoteCliTests(SiloServer server)
{
    private string Url => server.BaseAddress.ToString();

    [Fact]
    public void ARemoteRunWritesTheReportAndKeepsTheNamesGiven()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        ApiDatasets.WriteClassFolders(data, perClass: 3, seed: 43);
        var names = folder.Write([.. """{"1": "the second kind"}"""u8], "names.json");

        var remote = CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "-o", folder.Combine("remote"), "--names", names, .. ApiDatasets.SmallFlags]);

        Assert.True(remote.ExitCode == 0, remote.Error + remote.Output);
        Assert.Contains("the second kind", File.ReadAllText(folder.Combine("remote", "report.html")));
        using var result = ResultJson.Load(folder.Combine("remote"));
        Assert.Equal("the second kind", result.Root.GetProperty("clusterNames").GetProperty("1").GetString());
    }

    [Fact]
    public void RemoteRunWritesTheSameClustersAsALocalRun()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        ApiDatasets.WriteClassFolders(data, perClass: 4, seed: 41);
        var broken = folder.Write([.. "not a picture"u8], "data", "hole", "broken.png");

        var local = CliRun.InProcess(["cluster", data, "-o", folder.Combine("local"), .. ApiDatasets.SmallFlags]);
        var remote = CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "-o", folder.Combine("remote"), .. ApiDatasets.SmallFlags]);

        Assert.True(local.ExitCode == 0, local.Error);
        Assert.True(remote.ExitCode == 0, remote.Error + remote.Output);
        Assert.Equal(File.ReadAllText(folder.Combine("local", "clusters.csv")), File.ReadAllText(folder.Combine("remote", "clusters.csv")));
        Assert.Contains("class folders", remote.Output);
        Assert.Contains("9 files uploaded", OneLine(remote.Output));
        Assert.Contains("NMI", remote.Output);
        Assert.Contains("1 image(s) could not be used", remote.Output);
        // Both end with what the run cost, the remote one counting its upload and download.
        Assert.Matches(@"clustered 8 images in \d+\.\d s in total", local.Output);
        Assert.Matches(@"clustered 8 images in \d+\.\d s in total", remote.Output);
        using var localResult = ResultJson.Load(folder.Combine("local"));
        using var remoteResult = ResultJson.Load(folder.Combine("remote"));
        Assert.Equal(localResult.Metric("nmi"), remoteResult.Metric("nmi"), 12);
        var source = remoteResult.Root.GetProperty("source");
        Assert.Equal("class-folders", source.GetProperty("layout").GetString());
        Assert.Equal(Path.GetFullPath(data), source.GetProperty("path").GetString());
        Assert.Equal(localResult.Root.GetProperty("options").ToString(), remoteResult.Root.GetProperty("options").ToString());
        var error = Assert.Single(remoteResult.Errors);
        Assert.Equal("hole/broken.png", error.GetProperty("id").GetString());
        Assert.Equal(broken, error.GetProperty("path").GetString());

        // The job stays on the server: its status, result and listing are there for the jobs commands.
        var jobId = AcceptedJobId().Match(remote.Output).Groups[1].Value;
        var status = CliRun.InProcess(["jobs", "status", jobId, "--server", Url, "--token", server.AdminToken]);
        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Contains($"job {jobId}: completed", status.Output);
        var fetched = CliRun.InProcess(["jobs", "result", jobId, "--server", Url, "--token", server.AdminToken, "-o", folder.Combine("fetched")]);
        Assert.True(fetched.ExitCode == 0, fetched.Error);
        Assert.Equal(File.ReadAllText(folder.Combine("remote", "clusters.csv")), File.ReadAllText(folder.Combine("fetched", "clusters.csv")));
        var list = CliRun.InProcess(["jobs", "list", "--server", Url, "--token", server.AdminToken, "--limit", "1000"]);
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains(jobId, list.Output);
        var cancel = CliRun.InProcess(["jobs", "cancel", jobId, "--server", Url, "--token", server.AdminToken]);
        Assert.True(cancel.ExitCode == 0, cancel.Error);
        Assert.Contains("completed", cancel.Output);
        // Only a failed or cancelled job is started again: a completed one stays as it is.
        var retry = CliRun.InProcess(["jobs", "retry", jobId, "--server", Url, "--token", server.AdminToken]);
        Assert.True(retry.ExitCode == 0, retry.Error);
        Assert.Contains($"job {jobId}: completed", retry.Output);
    }

    [Fact]
    public void RemoteSemiSupervisedRunUploadsTheNormalImages()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("product");
        SyntheticImages.Write(Path.Combine(data, "test", "good"), DefectType.Good, 3, seed: 51);
        SyntheticImages.Write(Path.Combine(data, "test", "stain"), DefectType.Stain, 3, seed: 52);
        SyntheticImages.Write(Path.Combine(data, "train", "good"), DefectType.Good, 3, seed: 53);
        string[] flags = ["--mode", "semi-supervised", .. ApiDatasets.SmallFlags];

        var local = CliRun.InProcess(["cluster", data, "-o", folder.Combine("local"), .. flags]);
        var remote = CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "-o", folder.Combine("remote"), .. flags]);

        Assert.True(local.ExitCode == 0, local.Error);
        Assert.True(remote.ExitCode == 0, remote.Error + remote.Output);
        Assert.Contains("3 normal images in " + Path.Combine(data, "train", "good") + " (uploaded as the normal set)", OneLine(remote.Output));
        Assert.Contains("9 files uploaded", OneLine(remote.Output));
        Assert.Equal(File.ReadAllText(folder.Combine("local", "clusters.csv")), File.ReadAllText(folder.Combine("remote", "clusters.csv")));
        using var remoteResult = ResultJson.Load(folder.Combine("remote"));
        Assert.Equal("mvtec", remoteResult.Root.GetProperty("source").GetProperty("layout").GetString());
        Assert.Equal("semi-supervised", remoteResult.Root.GetProperty("options").GetProperty("mode").GetString());
    }

    [Fact]
    public void FilesThatCannotBeReadAreListedAsUnreadableAndTheOthersUploaded()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        SyntheticImages.Write(data, DefectType.Good, 2, seed: 71);
        SyntheticImages.Write(data, DefectType.Hole, 2, seed: 72);
        // A dangling link cannot be opened, even by root; a named pipe must not be opened (that waits for a writer forever).
        File.CreateSymbolicLink(Path.Combine(data, "gone.png"), folder.Combine("nowhere", "gone.png"));
        using var pipe = NamedPipeFile.Create(Path.Combine(data, "pipe.png"), unblockAfter: TimeSpan.FromSeconds(60));

        var remote = CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "-k", "2", "-o", folder.Combine("remote"), .. ApiDatasets.SmallFlags]);

        Assert.True(remote.ExitCode == 0, remote.Error + remote.Output);
        Assert.Contains("4 files uploaded", OneLine(remote.Output));
        Assert.Contains("left out pipe.png (unreadable): cannot read the file: it is a named pipe (FIFO), not a regular file.", OneLine(remote.Output));
        Assert.Equal(4, ResultJson.ClustersCsv(folder.Combine("remote")).Count);
        using var result = ResultJson.Load(folder.Combine("remote"));
        var errors = result.Errors.ToDictionary(error => error.GetProperty("id").GetString()!, error => error.GetProperty("reason").GetString()!);
        Assert.Equal(["gone.png", "pipe.png"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.All(errors.Values, reason => Assert.Equal("unreadable", reason));
    }

    [Fact]
    public async Task AFileThatGoesAwayDuringTheUploadIsNamedNotBlamedOnTheServer()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("data"), DefectType.Good, 2, seed: 73);
        var present = Directory.GetFiles(folder.Combine("data")).Order(StringComparer.Ordinal).ToArray();
        // Checked readable when listed, deleted before its turn in the upload.
        var gone = folder.Combine("data", "deleted.png");
        using var client = new AnomalyClustering.Cli.Remote.JobApiClient(server.BaseAddress, server.AdminToken);
        AnomalyClustering.Cli.Remote.UploadFile[] files = [new("a.png", present[0], false), new("deleted.png", gone, false), new("b.png", present[1], false)];

        var failure = await Assert.ThrowsAsync<CliInputException>(() => client.UploadAsync(
            $"cli-gone-{Guid.NewGuid():N}", AnomalyClustering.Grains.Jobs.JobOptionsMapping.FromPipelineOptions(new AnomalyClustering.Jobs.ClusteringJobOptions()), null, files, null, TestContext.Current.CancellationToken));

        Assert.Contains($"cannot read {gone}", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("too large", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoteMistakesAreOneLineErrors()
    {
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        ApiDatasets.WriteClassFolders(data, perClass: 2, seed: 61);
        var output = folder.Combine("out");

        CliRun.InProcess(["cluster", data, "--server", "http://127.0.0.1:1", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "cannot reach the server at http://127.0.0.1:1/");
        CliRun.InProcess(["cluster", data, "--server", "ftp://example.org", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "is not an http(s) address");
        CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "--model", folder.Combine("m.onnx"), "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "--backbone-name");
        CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "--store", folder.Combine("store"), "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "--store");
        CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "--resize-mode", "crop", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "--resize-mode applies to local runs only");
        CliRun.InProcess(["cluster", data, "--backbone-name", "resnet50", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "goes with --server");
        CliRun.InProcess(["cluster", data, "--token", server.AdminToken, "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "they go with --server");
        CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "--memory-budget", "8", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "a server clusters within its own budget");
        CliRun.InProcess(["cluster", data, "--server", Url, "--token", server.AdminToken, "--backbone-name", "resnet-9000", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "unknown backbone 'resnet-9000'");
        var broken = folder.Combine("broken");
        folder.Write([.. "not a picture"u8], "broken", "a.png");
        folder.Write([], "broken", "b.png");
        CliRun.InProcess(["cluster", broken, "--server", Url, "--token", server.AdminToken, "-k", "2", "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "failed on the server: only 0 of 2 images could be used");
        CliRun.InProcess(["jobs", "status", "no-such-job", "--server", Url, "--token", server.AdminToken])
            .AssertOneLineError(CliExitCodes.InputError, "there is no job 'no-such-job'");
        CliRun.InProcess(["jobs", "result", "no-such-job", "--server", Url, "--token", server.AdminToken, "-o", output])
            .AssertOneLineError(CliExitCodes.InputError, "(404 Not Found)");
        // Without a token, or with one that does not grant the change: one line that says what to do.
        CliRun.InProcess(["jobs", "status", "no-such-job", "--server", Url])
            .AssertOneLineError(CliExitCodes.InputError, "--token or ANOMALY_CLUSTERING_TOKEN");
        CliRun.InProcess(["jobs", "cancel", "no-such-job", "--server", Url, "--token", server.Tokens.Mint(roles: [Security.ApiPermissions.Read])])
            .AssertOneLineError(CliExitCodes.InputError, "Jobs.Cancel");
        Assert.False(Directory.Exists(output));
    }

    [GeneratedRegex(@"job (cli-[0-9a-f]+) accepted")]
    private static partial Regex AcceptedJobId();

    /// <summary>The output with the console's line wrapping undone.</summary>
    private static string OneLine(string output) => Whitespace().Replace(output, " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
