using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// One server over a local-folder store (the default hosting: localhost clustering), stopped and started again on the same
/// folder: the jobs it had are listed as before, and a completed job is still its coordinator's (its clusters can be
/// named), not only a result in the store.
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
            using var form = ApiDatasets.UploadForm(images.Path, ApiDatasets.Small);
            using var response = await client.PostAsync("/jobs/upload", form, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {text}");
            jobId = System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!.JobId;
            // The readiness signal is the job's own status; 3 minutes is far above the seconds it takes.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            JobStatus status;
            while (!(status = (await client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, cancel))!).IsFinished)
            {
                Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in 3 minutes: {status.State}");
                await Task.Delay(100, cancel);
            }
            Assert.True(status.State == JobState.Completed, $"job {jobId}: {status.State} {status.Error}");
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

    private static (string JobId, JobState State, int? Clusters, DateTimeOffset CreatedAt, int Images) Listed(JobStatus job) =>
        (job.JobId, job.State, job.ClusterCount, job.CreatedAt, job.TotalImages);
}
