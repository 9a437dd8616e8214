using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A real redis-server (membership, grain state, reminders) killed and started again without its data under a running
/// coordinator: the earlier job is still found, a new submission runs and is listed, readiness and then liveness say the
/// silo lost its membership; the restart that liveness asks for (Kubernetes) gives a ready silo that still finds both jobs.
/// </summary>
public sealed class RedisLossTests
{
    private static readonly TimeSpan HealthLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task AfterRedisRestartsEmptyEveryJobIsFoundNewJobsAreListedAndHealthSaysMembershipIsLost()
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
            ["Orleans:ClusterId"] = "redis-loss-" + Guid.NewGuid().ToString("N"),
            ["AnomalyClustering:Storage:LocalRoot"] = store.Path,
            ["AnomalyClustering:Health:LostGrace"] = "00:00:01",
        };
        using var images = new TempFolder();
        ApiDatasets.WriteClassFolders(images.Path, perClass: 2, seed: 21);
        string earlier, later;

        await using (var silo = await StandaloneSilo.StartAsync(tokens, settings))
        {
            using var client = silo.AdminClient();
            using var probe = silo.Client();
            await WaitForHealthAsync(probe, "/health/ready", "Healthy");
            earlier = await SubmitAndFinishAsync(client);

            await redis.KillAsync();
            await redis.RestartAsync(empty: true);

            await WaitForHealthAsync(probe, "/health/ready", "Unhealthy");
            await WaitForHealthAsync(probe, "/health/live", "Unhealthy");
            Assert.Equal(JobState.Completed, (await StatusAsync(client, earlier)).State);
            later = await SubmitAndFinishAsync(client);
            var listed = (await client.GetFromJsonAsync<JobStatus[]>("/jobs", SiloServer.Json, cancel))!;
            Assert.Contains(listed, job => job.JobId == later);
        }

        // What the liveness probe asks Kubernetes for: a new process, on the same (now empty) Redis and the same store.
        await using (var restarted = await StandaloneSilo.StartAsync(tokens, settings))
        {
            using var client = restarted.AdminClient();
            using var probe = restarted.Client();
            await WaitForHealthAsync(probe, "/health/ready", "Healthy");
            await WaitForHealthAsync(probe, "/health/live", "Healthy");
            var found = await StatusAsync(client, earlier);
            Assert.Equal(JobState.Completed, found.State);
            Assert.True(found.ClusterCount > 0);
            Assert.Equal(JobState.Completed, (await StatusAsync(client, later)).State);
            var listed = (await client.GetFromJsonAsync<JobStatus[]>("/jobs", SiloServer.Json, cancel))!;
            Assert.Contains(listed, job => job.JobId == later);
            using var result = await client.GetAsync($"/jobs/{earlier}/result", cancel);
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        async Task<string> SubmitAndFinishAsync(HttpClient client)
        {
            using var form = ApiDatasets.UploadForm(images.Path, ApiDatasets.Small);
            using var response = await client.PostAsync("/jobs/upload", form, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {text}");
            var jobId = System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!.JobId;
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                var status = await StatusAsync(client, jobId);
                if (status.IsFinished)
                {
                    Assert.True(status.State == JobState.Completed, $"job {jobId}: {status.State} {status.Error}");
                    return jobId;
                }
                Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in 3 minutes: {status.State}");
                await Task.Delay(100, cancel);
            }
        }
    }

    private static async Task<JobStatus> StatusAsync(HttpClient client, string jobId)
    {
        using var response = await client.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /jobs/{jobId}: {response.StatusCode} {text}");
        return System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!;
    }

    /// <summary>Polls a health endpoint until it answers <paramref name="expected"/> (a readiness signal, with a generous limit).</summary>
    private static async Task WaitForHealthAsync(HttpClient probe, string path, string expected)
    {
        var deadline = DateTime.UtcNow + HealthLimit;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await probe.GetAsync(path, TestContext.Current.CancellationToken);
            last = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            if (last == expected)
            {
                return;
            }
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Fail($"{path} did not say {expected} within {HealthLimit}; last answer: {last}");
    }
}
