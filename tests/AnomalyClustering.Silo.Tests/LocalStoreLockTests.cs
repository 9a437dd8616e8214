using System.Net;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// One server per local folder, enforced: a second server on the folder of a running one is refused at start with a
/// typed error naming the folder and the holder, and the first goes on; a CLI run on that folder is refused too, and told
/// to send its job to the server or to use another store (the two would otherwise resume each other's jobs). A folder whose
/// lock cannot be written is said to be so, to the server and to a CLI run alike, not taken for one in use.
/// </summary>
public sealed class LocalStoreLockTests
{
    [Fact]
    public async Task ASecondServerOnTheFolderOfARunningOneIsRefusedAndTheFirstGoesOn()
    {
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        using var images = new TempFolder();
        ApiDatasets.WriteClassFolders(images.Path, perClass: 2, seed: 31);
        var settings = new Dictionary<string, string?> { ["AnomalyClustering:Storage:LocalRoot"] = store.Path };
        await using var first = await StandaloneSilo.StartAsync(tokens, settings);

        var refused = await Assert.ThrowsAsync<StoreFolderInUseException>(() => StandaloneSilo.StartAsync(tokens, settings));

        Assert.True(refused.HeldByServer);
        Assert.Contains($"'{Path.GetFullPath(store.Path)}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId} on host {Environment.MachineName}", refused.Message, StringComparison.Ordinal);
        using var client = first.AdminClient();
        var jobId = await LocalStoreRestartTests.CompletedJobAsync(client, images.Path);
        using var listed = await client.GetAsync("/jobs", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains(jobId, await listed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACliRunOnTheFolderOfARunningServerIsToldToSendItsJobThereOrUseAnotherStore()
    {
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        ApiDatasets.WriteClassFolders(data, perClass: 2, seed: 37);
        await using var server = await StandaloneSilo.StartAsync(tokens, new Dictionary<string, string?> { ["AnomalyClustering:Storage:LocalRoot"] = store.Path });

        var run = CliRun.InProcess(["cluster", data, "-o", folder.Combine("out"), "--store", store.Path, .. ApiDatasets.SmallFlags]);

        run.AssertOneLineError(CliExitCodes.InputError, "--server");
        Assert.Contains(Path.GetFullPath(store.Path), run.Error, StringComparison.Ordinal);
        Assert.Contains("--store", run.Error, StringComparison.Ordinal);
        // Refused before anything ran: no job of the CLI in the server's folder.
        Assert.False(Directory.Exists(Path.Combine(store.Path, "running")), "the CLI took no job lock there");
    }

    [Fact]
    public async Task AFolderWhoseLockCannotBeWrittenIsSaidToBeSoToTheServerAndToACliRun()
    {
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        using var folder = new TempFolder();
        var data = folder.Combine("data");
        ApiDatasets.WriteClassFolders(data, perClass: 2, seed: 41);
        // A folder where the lock file goes: opening it fails whatever the user, root included.
        Directory.CreateDirectory(StoreFolderLock.LockFileOf(store.Path));

        var failed = await Assert.ThrowsAsync<StoreFolderLockException>(() => StandaloneSilo.StartAsync(
            tokens, new Dictionary<string, string?> { ["AnomalyClustering:Storage:LocalRoot"] = store.Path }));
        var run = CliRun.InProcess(["cluster", data, "-o", folder.Combine("out"), "--store", store.Path, .. ApiDatasets.SmallFlags]);

        Assert.Contains($"'{ClusterHostingOptions.StateFolderOf(Path.GetFullPath(store.Path))}'", failed.Message, StringComparison.Ordinal);
        run.AssertOneLineError(CliExitCodes.InputError, "cannot be written");
        Assert.DoesNotContain("in use", run.Error, StringComparison.Ordinal);
    }
}
