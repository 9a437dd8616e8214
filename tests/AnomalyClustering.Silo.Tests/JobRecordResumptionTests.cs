using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A job in its image stage survives a real redis-server killed and started empty AND its coordinator process restarting
/// before the job's state was written again: the new process finds the job's record in the store and resumes it, and it
/// completes with the fault-free run's clusters. A cancelled job and a deleted one are not resumed.
/// </summary>
public sealed class JobRecordResumptionTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task RunningJobIsResumedFromItsRecordAfterRedisRestartsEmptyAndItsCoordinatorRestarts()
    {
        var executable = RedisServer.FindExecutable();
        if (executable is null)
        {
            Assert.Skip("redis-server is not on PATH (Debian: apt-get install redis-server)");
        }
        var cancel = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartAsync(executable);
        using var tokens = new TestTokens();
        using var store = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["AnomalyClustering:Clustering"] = "Redis",
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Orleans:ClusterId"] = "job-records-" + Guid.NewGuid().ToString("N"),
            ["AnomalyClustering:Storage:LocalRoot"] = store.Path,
        };
        // The first process checkpoints no progress during the image stage: its coordinator state changes only between
        // stages, the window in which a long image stage would lose the job.
        var firstProcess = new Dictionary<string, string?>(settings) { ["AnomalyClustering:Coordinator:CheckpointInterval"] = "01:00:00" };
        using var images = new TempFolder();
        ApiDatasets.WriteClassFolders(images.Path, perClass: 3, seed: 23);
        var blobs = new LocalDirectoryBlobStore(store.Path);
        var held = new HeldWritesBlobStore(blobs);
        const string Resumed = "resumed-job", Cancelled = "cancelled-job", Deleted = "deleted-job";
        IReadOnlyDictionary<string, int> faultFree;
        DateTimeOffset resumedCreatedAt;

        await using (var silo = await StandaloneSilo.StartAsync(tokens, firstProcess, services => services.AddSingleton<IBlobStore>(held)))
        {
            using var client = silo.AdminClient();
            var reference = await WaitFinishedAsync(client, await SubmitAsync(client, "fault-free-job"));
            Assert.True(reference.State == JobState.Completed, $"fault-free run: {reference.State} {reference.Error}");
            faultFree = await ClustersAsync(blobs, reference);

            foreach (var jobId in new[] { Resumed, Cancelled, Deleted })
            {
                var writing = held.HoldAsync(JobBlobNames.JobPrefix(jobId) + "outcomes/");
                await SubmitAsync(client, jobId);
                // An image outcome waits to be written: the job is in its image stage, and no image of it is done.
                await writing.WaitAsync(Limit, cancel);
                Assert.Equal(JobState.Weighting, (await StatusAsync(client, jobId)).State);
            }
            resumedCreatedAt = (await StatusAsync(client, Resumed)).CreatedAt;

            // Cancelled and deleted while running (their held writes fail, so neither can complete meanwhile).
            var cancelling = client.PostAsync($"/jobs/{Cancelled}/cancel", null, cancel);
            held.Fail(JobBlobNames.JobPrefix(Cancelled) + "outcomes/");
            using (var cancelled = await cancelling)
            {
                Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
            }
            Assert.Equal(JobState.Cancelled, (await StatusAsync(client, Cancelled)).State);
            var deleting = client.DeleteAsync($"/jobs/{Deleted}", cancel);
            held.Fail(JobBlobNames.JobPrefix(Deleted) + "outcomes/");
            using (var deleted = await deleting)
            {
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            }

            await redis.KillAsync();
            await redis.RestartAsync(empty: true);
            // The process ends before the running job's coordinator wrote its state again (its writes are held, then fail).
            held.Fail(JobBlobNames.JobPrefix(Resumed) + "outcomes/");
        }
        var keys = await RedisKeysAsync(redis);
        Assert.DoesNotContain(keys, key => key.Contains(Resumed, StringComparison.Ordinal) && key.Contains("clusteringjob", StringComparison.OrdinalIgnoreCase));

        // A new process on the same (empty) Redis and the same store, as the liveness probe's restart gives.
        await using (var restarted = await StandaloneSilo.StartAsync(tokens, settings))
        {
            using var client = restarted.AdminClient();
            // Listed without anyone asking for it by id: the start-up pass over the job records resumed it.
            var deadline = DateTime.UtcNow + Limit;
            while (!(await ListAsync(client)).Any(job => job.JobId == Resumed))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the resumed job was not listed within {Limit}; redis keys before the restart: {string.Join(", ", keys)}");
                await Task.Delay(200, cancel);
            }
            var resumed = await WaitFinishedAsync(client, Resumed);
            Assert.True(resumed.State == JobState.Completed, $"resumed job: {resumed.State} {resumed.Error}");
            Assert.Equal(0, resumed.FailedImages);
            Assert.Equal(faultFree.Count, resumed.TotalImages);
            Assert.Equal(resumedCreatedAt, resumed.CreatedAt);
            Assert.Contains("resumed", resumed.Note, StringComparison.Ordinal);
            Assert.Equal(faultFree, await ClustersAsync(blobs, resumed));
            Assert.Contains(await ListAsync(client), job => job.JobId == Resumed && job.State == JobState.Completed);
            Assert.False(await blobs.ExistsAsync(JobBlobNames.Record(Resumed), cancel), "a completed job's record is deleted");
            // The same test of the keys finds the coordinator's state now that it is written: before the restart it had none.
            Assert.Contains(await RedisKeysAsync(redis), key => key.Contains(Resumed, StringComparison.Ordinal) && key.Contains("clusteringjob", StringComparison.OrdinalIgnoreCase));

            var cancelled = await StatusAsync(client, Cancelled);
            Assert.Equal(JobState.Cancelled, cancelled.State);
            Assert.Null(cancelled.ResultBlob);
            Assert.False(await blobs.ExistsAsync(JobBlobNames.Result(Cancelled), cancel));

            using var gone = await client.GetAsync($"/jobs/{Deleted}", cancel);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.DoesNotContain(await ListAsync(client), job => job.JobId == Deleted);
            Assert.False(await blobs.ExistsAsync(JobBlobNames.Record(Deleted), cancel));
        }

        async Task<string> SubmitAsync(HttpClient client, string jobId)
        {
            using var form = ApiDatasets.UploadForm(images.Path, ApiDatasets.Small, jobId);
            using var response = await client.PostAsync("/jobs/upload", form, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {text}");
            return jobId;
        }
    }

    private static async Task<JobStatus> WaitFinishedAsync(HttpClient client, string jobId)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var status = await StatusAsync(client, jobId);
            if (status.IsFinished)
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish within {Limit}: {status.State}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<JobStatus> StatusAsync(HttpClient client, string jobId)
    {
        using var response = await client.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /jobs/{jobId}: {response.StatusCode} {text}");
        return System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!;
    }

    private static async Task<JobStatus[]> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JobStatus[]>("/jobs", SiloServer.Json, TestContext.Current.CancellationToken))!;

    /// <summary>Each image's cluster in a completed job's result.</summary>
    private static async Task<IReadOnlyDictionary<string, int>> ClustersAsync(IBlobStore blobs, JobStatus completed)
    {
        var (result, _) = await JobResultFiles.ReadAsync(blobs, completed.ResultBlob!, TestContext.Current.CancellationToken);
        return result.Images.ToDictionary(image => image.Id, image => image.Cluster, StringComparer.Ordinal);
    }

    private static async Task<IReadOnlyList<string>> RedisKeysAsync(RedisServer redis)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        return [.. connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: "*").Select(key => key.ToString())];
    }
}
