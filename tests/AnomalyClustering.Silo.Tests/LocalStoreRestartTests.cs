using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// One server over a local-folder store (the default hosting: localhost clustering), stopped and started again on the same
/// folder: the jobs it had are listed as before, and a completed job is still its coordinator's (its clusters can be
/// named), not only a result in the store; and its reminders fire after the restart as they would have before it.
/// </summary>
public sealed class LocalStoreRestartTests
{
    [Fact]
    public async Task AJobCompletedBeforeARestartIsListedAfterItAsBefore()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        using var images = new TempFolder();
        ApiDatasets.WriteClassFolders(images.Path, perClass: 2, seed: 23);
        // Each start gets new ports and a new cluster id (StandaloneSilo's defaults); only the folder is the same.
        var settings = new Dictionary<string, string?> { ["AnomalyClustering:Storage:LocalRoot"] = store.Path };
        JobStatus[] before;
        string jobId;

        await using (var silo = await StandaloneSilo.StartAsync(tokens, settings))
        {
            using var client = silo.AdminClient();
            jobId = await CompletedJobAsync(client, images.Path);
            before = (await client.GetFromJsonAsync<JobStatus[]>("/jobs", SiloServer.Json, cancel))!;
            Assert.Contains(before, job => job.JobId == jobId);
        }

        await using (var restarted = await StandaloneSilo.StartAsync(tokens, settings))
        {
            using var client = restarted.AdminClient();
            var after = (await client.GetFromJsonAsync<JobStatus[]>("/jobs", SiloServer.Json, cancel))!;
            Assert.Equal(before.Select(Listed), after.Select(Listed));
            // The coordinator's own state, not a status rebuilt from the result (which cannot name clusters: 400).
            using var named = await client.PutAsJsonAsync($"/jobs/{jobId}/clusters/0/name", new { name = "scratch" }, cancel);
            Assert.True(named.StatusCode == HttpStatusCode.OK, await named.Content.ReadAsStringAsync(cancel));
        }
        Assert.True(Directory.Exists(ClusterHostingOptions.StateFolderOf(store.Path)), "the jobs' state is kept beside the blobs");
    }

    [Fact]
    public async Task ADeletionThatAStopCutShortIsFinishedAfterTheRestartWithoutTheJobBeingAskedFor()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        using var images = new TempFolder();
        ApiDatasets.WriteClassFolders(images.Path, perClass: 2, seed: 29);
        var settings = new Dictionary<string, string?> { ["AnomalyClustering:Storage:LocalRoot"] = store.Path };
        var gated = new GatedBlobStore(new LocalDirectoryBlobStore(store.Path));
        string jobId;

        await using (var silo = await StandaloneSilo.StartAsync(tokens, settings, services => services.AddSingleton<IBlobStore>(gated)))
        {
            using var client = silo.AdminClient();
            jobId = await CompletedJobAsync(client, images.Path);
            // The deletion goes as far as the job's uploads and is held there when the server stops: its record is gone by
            // then, so the start-up pass over records does not find the job; only the coordinator's resume reminder wakes it.
            gated.HoldDeletes(JobBlobNames.UploadPrefix(jobId));
            using var response = await client.DeleteAsync($"/jobs/{jobId}", cancel);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(cancel)}");
            await WaitUntilAsync(() => Task.FromResult(gated.IsDeleteWaiting(JobBlobNames.UploadPrefix(jobId))), "the deletion to reach the uploads");
        }
        var folder = new LocalDirectoryBlobStore(store.Path);
        Assert.Null(await JobRecordStore.ReadAsync(folder, jobId, cancel));
        Assert.True(await UploadsOfAsync(folder, jobId) > 0, "the stop cut the deletion short");

        await using (var restarted = await StandaloneSilo.StartAsync(tokens, settings))
        {
            // Nothing asks for the job (the store is looked at on the disk): the reminder fires within its period (a minute)
            // of the start, and the coordinator it activates finishes the deletion.
            await WaitUntilAsync(async () => await UploadsOfAsync(folder, jobId) == 0, "the deletion to be finished", TimeSpan.FromMinutes(4));
            using var client = restarted.AdminClient();
            using var gone = await client.GetAsync($"/jobs/{jobId}", cancel);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
    }

    /// <summary>Uploads a small job, waits for it to complete and returns its id.</summary>
    internal static async Task<string> CompletedJobAsync(HttpClient client, string imagesFolder)
    {
        var cancel = TestContext.Current.CancellationToken;
        using var form = ApiDatasets.UploadForm(imagesFolder, ApiDatasets.Small);
        using var response = await client.PostAsync("/jobs/upload", form, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {text}");
        var jobId = System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!.JobId;
        // The readiness signal is the job's own status; 3 minutes is far above the seconds it takes.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        JobStatus status;
        while (!(status = (await client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, cancel))!).IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in 3 minutes: {status.State}");
            await Task.Delay(100, cancel);
        }
        Assert.True(status.State == JobState.Completed, $"job {jobId}: {status.State} {status.Error}");
        return jobId;
    }

    private static async Task<int> UploadsOfAsync(IBlobStore store, string jobId)
    {
        var count = 0;
        await foreach (var _ in store.ListAsync(JobBlobNames.UploadPrefix(jobId), TestContext.Current.CancellationToken))
        {
            count++;
        }
        return count;
    }

    /// <summary>Polls <paramref name="condition"/>; fails after <paramref name="limit"/> (a minute unless given), far above what it takes.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(1));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited in vain for {what}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static (string JobId, JobState State, int? Clusters, DateTimeOffset CreatedAt, int Images) Listed(JobStatus job) =>
        (job.JobId, job.State, job.ClusterCount, job.CreatedAt, job.TotalImages);
}
