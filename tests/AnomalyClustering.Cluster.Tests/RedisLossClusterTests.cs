using System.Diagnostics;
using System.Net;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cluster.Tests;

/// <summary>
/// Redis restarted without its data under a running cluster (a coordinator and two gpu-workers), then a new gpu-worker
/// started: it finds an empty membership table and starts a cluster of its own, which the running silos are not in (the
/// issue's "a new worker forms a cluster of its own; only restarting every silo recovers"). What must happen is what a
/// deployment does by itself: the running silos' liveness probes fail once the loss has lasted the grace, the kubelet
/// restarts each of them (here the test probes and restarts as Kubernetes does, on the same ports), the new processes join
/// the new worker's table, and the cluster ends as one: every silo ready (listed in the one table), every silo seen
/// active by the cluster, the job that was running at the loss completed, and a new job run to completion on its workers.
/// </summary>
public sealed class RedisLossClusterTests(RedisLossCluster cluster) : IClassFixture<RedisLossCluster>
{
    // Generous: each restart of a silo process takes tens of seconds on a loaded two-core machine.
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromMinutes(8);

    // Kubernetes restarts a container after failureThreshold failed probes in a row (the manifests say 3).
    private const int FailuresBeforeRestart = 3;

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task AfterRedisRestartsEmptyAndANewWorkerStartsTheClusterEndsAsOne()
    {
        cluster.SkipWhenUnavailable();
        var output = TestContext.Current.TestOutputHelper;
        await cluster.RunJobAsync("before-the-loss", cluster.Specification);
        // A job mid-way when Redis loses its data must complete: its coordinator and shard find their records gone, keep their
        // own copies and write them again. (On this small job it usually ends before its coordinator's liveness restart, so
        // this does not show a resumption across that restart.)
        const string runningJob = "during-the-loss";
        await JobSubmitter.SubmitAsync(cluster.Store, cluster.Client, runningJob, cluster.Specification, cancellationToken: TestContext.Current.CancellationToken);
        var atLoss = await cluster.WaitUntilAsync(runningJob, TimeSpan.FromMinutes(3), job => job.State == JobState.Weighting && job.WeightedImages >= 2);
        Assert.True(atLoss.State == JobState.Weighting, $"the job was {LoopbackCluster.Describe(atLoss)} when Redis was to lose its data; it must run longer.");

        await cluster.Redis.KillAsync();
        await cluster.Redis.RestartAsync(empty: true);
        var newcomer = await cluster.StartExtraWorkerAsync();

        var restarted = await ProbeAndRestartUntilEverySiloIsReadyAsync();
        output?.WriteLine($"restarted by their failed liveness probes: {string.Join(", ", restarted)}; the new worker {newcomer.Name} was {(restarted.Contains(newcomer.Name) ? "" : "not ")}restarted");

        // The test's client stands for the coordinators' API: it connects to the rebuilt cluster.
        await cluster.ConnectClientAsync();
        var everySilo = cluster.Silos.Select(silo => silo.SiloPort).Order().ToArray();
        var seen = await WaitForActiveSilosAsync(everySilo);
        Assert.Equal(everySilo, seen);

        var resumed = await cluster.WaitFinishedAsync(runningJob, TimeSpan.FromMinutes(5));
        output?.WriteLine($"the job running at the loss: {LoopbackCluster.Describe(atLoss)} then; now {LoopbackCluster.Describe(resumed)}");
        await cluster.AssertCompletedAsync(resumed);
        Assert.Equal(0, resumed.FailedImages);

        // The rebuilt cluster runs a job on its workers (image grains run only on gpu-workers).
        var (status, result) = await cluster.RunJobAsync("after-the-loss", cluster.Specification);
        Assert.Equal(0, status.FailedImages);
        Assert.Equal(cluster.Specification.Images.Count, result.Images.Count);
    }

    /// <summary>
    /// Probes every silo's <c>/health/live</c> as the kubelet does and restarts a silo after
    /// <see cref="FailuresBeforeRestart"/> failed probes in a row, until every silo answers both <c>/health/live</c> and
    /// <c>/health/ready</c> with 200. Returns the names of the silos it restarted.
    /// </summary>
    private async Task<List<string>> ProbeAndRestartUntilEverySiloIsReadyAsync()
    {
        var failures = new Dictionary<int, int>();
        var restarted = new List<string>();
        var clock = Stopwatch.StartNew();
        var states = "";
        while (clock.Elapsed < RecoveryLimit)
        {
            var allReady = true;
            var describe = new List<string>();
            foreach (var silo in cluster.Silos.ToArray())
            {
                var live = await AnswersAsync(silo, "/health/live");
                var ready = await AnswersAsync(silo, "/health/ready");
                describe.Add($"{silo.Name}: live {live}, ready {ready}");
                allReady &= live && ready;
                failures[silo.SiloPort] = live ? 0 : failures.GetValueOrDefault(silo.SiloPort) + 1;
                if (failures[silo.SiloPort] >= FailuresBeforeRestart)
                {
                    failures[silo.SiloPort] = 0;
                    restarted.Add(silo.Name);
                    await cluster.RestartSiloAsync(silo);
                    allReady = false;
                }
            }
            states = string.Join("; ", describe);
            if (allReady)
            {
                return restarted;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
        throw new TimeoutException($"the silos were not all live and ready after {RecoveryLimit.TotalMinutes:F0} minutes: {states}; restarted: {string.Join(", ", restarted)}\n{cluster.Diagnostics()}");
    }

    private static async Task<bool> AnswersAsync(SiloProcess silo, string path)
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}{path}"), TestContext.Current.CancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The silo ports the cluster reports active, once they are <paramref name="expected"/> (views converge after joins) or the limit passes.</summary>
    private async Task<int[]> WaitForActiveSilosAsync(int[] expected)
    {
        var clock = Stopwatch.StartNew();
        int[] seen = [];
        while (clock.Elapsed < RecoveryLimit)
        {
            try
            {
                var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
                seen = [.. hosts.Keys.Select(address => address.Endpoint.Port).Order()];
                if (seen.SequenceEqual(expected))
                {
                    break;
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // A silo that has just joined may not answer yet.
            }
            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
        return seen;
    }
}

/// <summary>A loopback cluster whose silos report a lost membership table to their liveness probe after 5 s (not 60).</summary>
public sealed class RedisLossCluster : LoopbackCluster
{
    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> SiloSettings => new Dictionary<string, string>
    {
        ["AnomalyClustering__Health__LostGrace"] = "00:00:05",
    };
}
