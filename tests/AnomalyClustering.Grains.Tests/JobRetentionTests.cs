using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Retention in an in-process cluster: a pass deletes the finished jobs older than the cutoff (a real job's coordinator
/// state, outcomes and result, and its uploads), oldest first and at most the per-pass bound, never a running job or a
/// newer one; and the background service does it on its own with a short retention.
/// </summary>
public sealed class JobRetentionTests
{
    private static readonly DateTimeOffset LongAgo = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task APassDeletesTheExpiredJobsOldestFirstWithinTheBoundAndNothingElse()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention => retention.Enabled = false);
        var data = await DemoDataset.CreateAsync(cluster.Store, seed: 141, imagesPerClass: 2, normals: 2);
        var real = await JobRuns.RunAsync(cluster.Grains, cluster.Store, "retention-real", data.Job(new JobOptions()));
        Assert.Equal(JobState.Completed, real.State);
        await PutAsync(cluster.Store, JobBlobNames.UploadedImagesPrefix(real.JobId) + "a.png");
        Assert.NotEmpty(await cluster.BlobsOfAsync(real.JobId));
        var registry = cluster.Grains.GetGrain<IJobRegistryGrain>(0);
        // Older jobs known only to the registry (with blobs of their own), finished long ago, and one still running.
        await RecordWithBlobsAsync(cluster, "retention-old-2", LongAgo.AddDays(2), JobState.Cancelled);
        await RecordWithBlobsAsync(cluster, "retention-old-1", LongAgo.AddDays(1), JobState.Failed);
        await RecordWithBlobsAsync(cluster, "retention-old-0", LongAgo, JobState.Completed);
        await RecordWithBlobsAsync(cluster, "retention-running", LongAgo, JobState.Embedding);

        // Before the real job's last change: three old jobs expired, the two oldest go (the bound is 2 a pass).
        Assert.Equal(["retention-old-0", "retention-old-1"], await cluster.Retention.SweepAsync(real.UpdatedAt, TestContext.Current.CancellationToken));
        Assert.Empty(await cluster.BlobsOfAsync("retention-old-0"));
        Assert.Empty(await cluster.BlobsOfAsync("retention-old-1"));
        Assert.NotEmpty(await cluster.BlobsOfAsync(real.JobId));
        Assert.Equal(JobState.Completed, (await cluster.Grains.GetGrain<IClusteringJobGrain>(real.JobId).GetStatus()).State);

        Assert.NotEmpty(await cluster.BlobsOfAsync("retention-old-2"));
        Assert.Equal(["retention-old-2", real.JobId], await cluster.Retention.SweepAsync(real.UpdatedAt.AddTicks(1), TestContext.Current.CancellationToken));
        Assert.Empty(await cluster.BlobsOfAsync(real.JobId));
        Assert.Equal(JobState.Unknown, (await cluster.Grains.GetGrain<IClusteringJobGrain>(real.JobId).GetStatus()).State);
        foreach (var image in data.Images)
        {
            Assert.True(await cluster.Store.ExistsAsync(image.BlobName, TestContext.Current.CancellationToken), "a prefix job's dataset is not the job's to delete");
        }

        // What is left: the running job, whatever its age.
        Assert.Empty(await cluster.Retention.SweepAsync(DateTimeOffset.MaxValue, TestContext.Current.CancellationToken));
        Assert.NotEmpty(await cluster.BlobsOfAsync("retention-running"));
        Assert.Equal(["retention-running"], (await registry.List(0, 10)).Select(job => job.JobId));
    }

    [Fact]
    public async Task TheServiceDeletesExpiredJobsOnItsOwn()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention =>
        {
            retention.FinishedJobRetention = TimeSpan.FromDays(1);
            retention.SweepInterval = TimeSpan.FromMilliseconds(100);
        });
        await RecordWithBlobsAsync(cluster, "expired", DateTimeOffset.UtcNow.AddDays(-2), JobState.Completed);
        await RecordWithBlobsAsync(cluster, "recent", DateTimeOffset.UtcNow.AddHours(-1), JobState.Completed);
        var registry = cluster.Grains.GetGrain<IJobRegistryGrain>(0);

        // The readiness signal is the registry forgetting the job, which deletion does last.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while ((await registry.List(0, 10)).Any(job => job.JobId == "expired"))
        {
            Assert.True(DateTime.UtcNow < deadline, "retention did not delete the expired job");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.Empty(await cluster.BlobsOfAsync("expired"));
        Assert.NotEmpty(await cluster.BlobsOfAsync("recent"));
        Assert.Equal(["recent"], (await registry.List(0, 10)).Select(job => job.JobId));
    }

    /// <summary>A finished (or running) job as its coordinator would have reported it, with an upload and a result blob.</summary>
    private static async Task RecordWithBlobsAsync(RetentionCluster cluster, string jobId, DateTimeOffset updatedAt, JobState state)
    {
        await PutAsync(cluster.Store, JobBlobNames.UploadedImagesPrefix(jobId) + "a.png");
        await PutAsync(cluster.Store, JobBlobNames.Result(jobId));
        await cluster.Grains.GetGrain<IJobRegistryGrain>(0).Record(new JobStatus { JobId = jobId, State = state, CreatedAt = updatedAt, UpdatedAt = updatedAt });
    }

    private static Task PutAsync(IBlobStore store, string name) => store.PutAsync(name, new MemoryStream([1, 2, 3]));

    /// <summary>One silo with both roles, memory job storage and the retention options a test sets.</summary>
    private sealed class RetentionCluster : IAsyncDisposable
    {
        private readonly string _storeFolder = Path.Combine(Path.GetTempPath(), "ac-retention-tests-" + Guid.NewGuid().ToString("n"));
        private InProcessTestCluster _cluster = null!;

        public LocalDirectoryBlobStore Store { get; private set; } = null!;

        public IGrainFactory Grains => _cluster.Client;

        public JobRetentionService Retention => _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<JobRetentionService>();

        public static async Task<RetentionCluster> StartAsync(Action<JobRetentionOptions> retention)
        {
            var cluster = new RetentionCluster();
            cluster.Store = new LocalDirectoryBlobStore(cluster._storeFolder);
            var store = cluster.Store;
            var builder = new InProcessTestClusterBuilder(1);
            builder.Options.ConfigureFileLogging = false;
            builder.ConfigureSilo((_, silo) =>
            {
                silo.Services.AddSingleton<IBlobStore>(store);
                silo.Services.Configure<JobRetentionOptions>(options =>
                {
                    options.MaxJobsPerSweep = 2;
                    retention(options);
                });
                silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
                silo.UseInMemoryReminderService();
                silo.AddAnomalyClusteringGrains([SiloRoles.Coordinator, SiloRoles.GpuWorker]);
            });
            cluster._cluster = builder.Build();
            await cluster._cluster.DeployAsync();
            return cluster;
        }

        public async Task<List<string>> BlobsOfAsync(string jobId)
        {
            var names = new List<string>();
            foreach (var prefix in new[] { JobBlobNames.JobPrefix(jobId), JobBlobNames.UploadPrefix(jobId) })
            {
                await foreach (var blob in Store.ListAsync(prefix))
                {
                    names.Add(blob.Name);
                }
            }
            return names;
        }

        public async ValueTask DisposeAsync()
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
            try
            {
                Directory.Delete(_storeFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
