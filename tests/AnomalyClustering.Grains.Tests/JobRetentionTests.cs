using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Retention in an in-process cluster: a pass deletes the finished jobs older than the cutoff (a real job's coordinator
/// state, outcomes and result, and its uploads), oldest first and at most the per-pass bound, never a running job or a
/// newer one; feature-cache entries written before the cache's retention go too, at most the per-pass bound, and nothing
/// else; and the background service does both on its own with a short retention.
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
    public async Task AFeatureCachePassDeletesTheEntriesWrittenBeforeTheCutoffWithinTheBoundAndNothingElse()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention =>
        {
            retention.Enabled = false;
            retention.FeatureCacheRetention = TimeSpan.FromDays(7);
            retention.MaxFeatureCacheEntriesPerSweep = 2;
        });
        var old = new[] { FeatureBlob(1), FeatureBlob(2), FeatureBlob(3) };
        var recent = FeatureBlob(4);
        var oldThumbnail = "thumbnails/img-0123-160-whole.jpg";
        foreach (var name in old.Append(recent).Append(oldThumbnail))
        {
            await PutAsync(cluster.Store, name);
        }
        foreach (var name in old.Append(oldThumbnail))
        {
            cluster.Age(name, LongAgo);
        }
        var cutoff = DateTimeOffset.UtcNow.AddDays(-7);

        Assert.Equal(2, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        Assert.Equal(1, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        Assert.Equal(0, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        foreach (var name in old)
        {
            Assert.False(await cluster.Store.ExistsAsync(name, TestContext.Current.CancellationToken), name);
        }
        Assert.True(await cluster.Store.ExistsAsync(recent, TestContext.Current.CancellationToken), "an entry written after the cutoff stays");
        Assert.True(await cluster.Store.ExistsAsync(oldThumbnail, TestContext.Current.CancellationToken), "only feature-cache entries expire here");
    }

    [Fact]
    public async Task APinnedEntryNeverExpiresAndExpiresOnceItsLastOwnerUnpinsIt()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention =>
        {
            retention.Enabled = false;
            retention.FeatureCacheRetention = TimeSpan.FromDays(7);
        });
        var pinned = FeatureBlob(7);
        var alsoPinned = FeatureBlob(8);
        var unpinned = FeatureBlob(9);
        foreach (var name in new[] { pinned, alsoPinned, unpinned })
        {
            await PutAsync(cluster.Store, name);
            cluster.Age(name, LongAgo);
        }
        // A job and a line need the first entry, the job the second; a name outside the cache is not pinned.
        await FeatureCachePins.PinAsync(cluster.Store, FeatureCachePins.JobOwner("pinning-job"), [pinned, alsoPinned, "jobs/pinning-job/result/result.json"],
            TestContext.Current.CancellationToken);
        await FeatureCachePins.PinAsync(cluster.Store, "lines/_/plate/", [pinned], TestContext.Current.CancellationToken);
        Assert.True(await FeatureCachePins.IsPinnedAsync(cluster.Store, pinned, TestContext.Current.CancellationToken));
        Assert.True(await FeatureCachePins.IsPinnedAsync(cluster.Store, alsoPinned, TestContext.Current.CancellationToken));
        Assert.False(await FeatureCachePins.IsPinnedAsync(cluster.Store, unpinned, TestContext.Current.CancellationToken));
        var cutoff = DateTimeOffset.UtcNow.AddDays(-7);

        Assert.Equal(1, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        Assert.False(await cluster.Store.ExistsAsync(unpinned, TestContext.Current.CancellationToken));
        Assert.Equal(2L, await FeatureCachePins.UnpinAsync(cluster.Store, FeatureCachePins.JobOwner("pinning-job"), TestContext.Current.CancellationToken));
        Assert.Equal(1, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        Assert.False(await cluster.Store.ExistsAsync(alsoPinned, TestContext.Current.CancellationToken));
        Assert.True(await cluster.Store.ExistsAsync(pinned, TestContext.Current.CancellationToken), "the line still pins it");
        // The line "plate" unpinned; "plate-b" (a name that begins with it) keeps its pins.
        await FeatureCachePins.PinAsync(cluster.Store, "lines/_/plate-b/", [pinned], TestContext.Current.CancellationToken);
        Assert.Equal(1L, await FeatureCachePins.UnpinAsync(cluster.Store, "lines/_/plate/", TestContext.Current.CancellationToken));
        Assert.Equal(0, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
        Assert.Equal(1L, await FeatureCachePins.UnpinAsync(cluster.Store, "lines/_/plate-b/", TestContext.Current.CancellationToken));
        Assert.Equal(1, await cluster.Retention.SweepFeatureCacheAsync(cutoff, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WithoutAFeatureCacheRetentionNoEntryExpires()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention => retention.Enabled = false);
        var entry = FeatureBlob(5);
        await PutAsync(cluster.Store, entry);
        cluster.Age(entry, LongAgo);

        Assert.Equal(0, await cluster.Retention.SweepFeatureCacheAsync(DateTimeOffset.MaxValue, TestContext.Current.CancellationToken));
        Assert.True(await cluster.Store.ExistsAsync(entry, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TheServiceDeletesExpiredJobsOnItsOwn()
    {
        await using var cluster = await RetentionCluster.StartAsync(retention =>
        {
            retention.FinishedJobRetention = TimeSpan.FromDays(1);
            retention.FeatureCacheRetention = TimeSpan.FromDays(1);
            retention.SweepInterval = TimeSpan.FromMilliseconds(100);
        });
        var expiredEntry = FeatureBlob(6);
        await PutAsync(cluster.Store, expiredEntry);
        cluster.Age(expiredEntry, DateTimeOffset.UtcNow.AddDays(-2));
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
        // The feature cache is swept in the same pass, after the jobs.
        while (await cluster.Store.ExistsAsync(expiredEntry, TestContext.Current.CancellationToken))
        {
            Assert.True(DateTime.UtcNow < deadline, "retention did not delete the expired feature-cache entry");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task OutcomesWrittenAfterADeletionAreSweptOnceMoreUnlessANewJobTookTheId()
    {
        // Retention off: the second sweep completes deletions someone asked for, so it runs anyway.
        await using var cluster = await RetentionCluster.StartAsync(retention => retention.Enabled = false);
        var registry = cluster.Grains.GetGrain<IJobRegistryGrain>(0);
        var early = DateTimeOffset.UtcNow.AddMinutes(-10);
        await RecordWithBlobsAsync(cluster, "deleted-late", early, JobState.Cancelled);
        await RecordWithBlobsAsync(cluster, "deleted-reused", early, JobState.Cancelled);
        await JobDeletion.DeleteAsync(cluster.Grains, "deleted-late", TestContext.Current.CancellationToken);
        await JobDeletion.DeleteAsync(cluster.Grains, "deleted-reused", TestContext.Current.CancellationToken);
        Assert.Empty(await cluster.BlobsOfAsync("deleted-late"));
        // What an image call that outlived the stop grace writes after the deletion; and a new job that took the other id.
        var late = JobBlobNames.ImageOutcome("deleted-late", 7);
        await PutAsync(cluster.Store, late);
        await registry.Record(new JobStatus { JobId = "deleted-reused", State = JobState.Queued, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(2), UpdatedAt = DateTimeOffset.UtcNow.AddMinutes(2) });
        var newJobsOutcome = JobBlobNames.ImageOutcome("deleted-reused", 3);
        await PutAsync(cluster.Store, newJobsOutcome);

        // Not yet: the deletions are younger than the cutoff.
        Assert.Equal(0, await cluster.Retention.SweepDeletedAsync(early, TestContext.Current.CancellationToken));
        Assert.True(await cluster.Store.ExistsAsync(late, TestContext.Current.CancellationToken));
        Assert.Equal(1, await cluster.Retention.SweepDeletedAsync(DateTimeOffset.MaxValue, TestContext.Current.CancellationToken));
        Assert.Empty(await cluster.BlobsOfAsync("deleted-late"));
        Assert.True(await cluster.Store.ExistsAsync(newJobsOutcome, TestContext.Current.CancellationToken), "a new job's outcome under a reused id is its own");
        Assert.Equal(["deleted-reused"], (await registry.List(0, 10)).Select(job => job.JobId));
        // Once swept, a job is forgotten: a later pass does nothing for it.
        Assert.Empty(await registry.DeletedBefore(DateTimeOffset.MaxValue, 10));
        Assert.Equal(0, await cluster.Retention.SweepDeletedAsync(DateTimeOffset.MaxValue, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ANewJobUnderADeletedJobsIdKeepsItsOutcomesWhenItsRegistryReportsFailed()
    {
        var cancel = TestContext.Current.CancellationToken;
        var reports = new FailingRegistryReports();
        await using var cluster = await RetentionCluster.StartAsync(retention => retention.Enabled = false,
            services => services.AddSingleton<IIncomingGrainCallFilter>(reports));
        var registry = cluster.Grains.GetGrain<IJobRegistryGrain>(0);
        var data = await DemoDataset.CreateAsync(cluster.Store, seed: 143, imagesPerClass: 2, normals: 2);
        const string jobId = "reused-after-deletion";
        Assert.Equal(JobState.Completed, (await JobRuns.RunAsync(cluster.Grains, cluster.Store, jobId, data.Job(new JobOptions()))).State);
        await JobDeletion.DeleteAsync(cluster.Grains, jobId, cancel);
        Assert.True(await registry.IsMarkedDeleted(jobId));

        // The id taken again while the registry cannot be reached: the new job runs on (its reports are an index's, and
        // their failures are only logged), and the registry keeps the deleted job's mark.
        reports.Failing = true;
        var again = await JobRuns.RunAsync(cluster.Grains, cluster.Store, jobId, data.Job(new JobOptions()));
        reports.Failing = false;
        Assert.True(reports.Failed > 0, "the new job reported nothing to the registry");
        Assert.True(await registry.IsMarkedDeleted(jobId), "the deleted job's mark is the fault's precondition");
        var outcomes = await NamesAsync(cluster.Store, JobBlobNames.OutcomesPrefix(jobId));
        Assert.NotEmpty(outcomes);

        // Retention's second sweep of the deleted job leaves the new job's outcomes, and forgets the mark.
        Assert.Equal(0, await cluster.Retention.SweepDeletedAsync(DateTimeOffset.MaxValue, cancel));
        Assert.Equal(outcomes, await NamesAsync(cluster.Store, JobBlobNames.OutcomesPrefix(jobId)));
        Assert.Equal(JobState.Completed, (await cluster.Grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus()).State);
        Assert.NotEmpty((await JobRuns.ResultAsync(cluster.Store, again)).Images);
        Assert.Empty(await registry.DeletedBefore(DateTimeOffset.MaxValue, 10));
    }

    private static async Task<List<string>> NamesAsync(IBlobStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in store.ListAsync(prefix))
        {
            names.Add(blob.Name);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Fails every report to the job registry while <see cref="Failing"/>, as a registry that cannot be reached does.</summary>
    private sealed class FailingRegistryReports : IIncomingGrainCallFilter
    {
        private int _failed;

        public volatile bool Failing;

        public int Failed => Volatile.Read(ref _failed);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (Failing && context.InterfaceMethod?.DeclaringType == typeof(IJobRegistryGrain) && context.InterfaceMethod.Name == nameof(IJobRegistryGrain.Record))
            {
                Interlocked.Increment(ref _failed);
                throw new TimeoutException("the job registry cannot be reached (test)");
            }
            return context.Invoke();
        }
    }

    /// <summary>A feature-cache blob name as <see cref="FeatureCacheKey.BlobName"/> makes them.</summary>
    private static string FeatureBlob(int seed)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(seed)));
        return $"{FeatureCacheKey.BlobPrefix}{hash[..2]}/{hash}.bag";
    }

    /// <summary>A finished (or running) job as its coordinator would have reported it, with an upload and a result blob.</summary>
    [Fact]
    public async Task RetentionLeavesAnIdWhoseNewJobIsStillBeingUploaded()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var cluster = await RetentionCluster.StartAsync(retention => retention.Enabled = false);
        const string jobId = "uploading-under-an-expired-id";
        // A new job's images being uploaded under an id whose old job expired (retention's list still names it): the new job
        // has no coordinator state until it is submitted.
        await PutAsync(cluster.Store, JobBlobNames.UploadedImagesPrefix(jobId) + "a.png");
        Assert.False(await JobDeletion.DeleteAsync(cluster.Grains, jobId, cancel, onlyIfFinishedBefore: DateTimeOffset.UtcNow));
        Assert.NotEmpty(await cluster.BlobsOfAsync(jobId));

        // A completed job whose coordinator state was lost is the expired one: its result answers for it, and it goes.
        await PutAsync(cluster.Store, JobBlobNames.Result(jobId));
        Assert.True(await JobDeletion.DeleteAsync(cluster.Grains, jobId, cancel, onlyIfFinishedBefore: DateTimeOffset.UtcNow));
        Assert.Empty(await cluster.BlobsOfAsync(jobId));
    }

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

        public static async Task<RetentionCluster> StartAsync(Action<JobRetentionOptions> retention, Action<IServiceCollection>? services = null)
        {
            var cluster = new RetentionCluster();
            cluster.Store = new LocalDirectoryBlobStore(cluster._storeFolder);
            var store = cluster.Store;
            cluster._cluster = await OneSiloCluster.StartAsync(store, silo =>
            {
                silo.Configure<JobRetentionOptions>(options =>
                {
                    options.MaxJobsPerSweep = 2;
                    retention(options);
                });
                services?.Invoke(silo);
            });
            return cluster;
        }

        /// <summary>Backdates a blob's write time (what the store lists as its last change).</summary>
        public void Age(string name, DateTimeOffset writtenAt)
        {
            var file = Directory.EnumerateFiles(_storeFolder, Path.GetFileName(name), SearchOption.AllDirectories).Single();
            File.SetLastWriteTimeUtc(file, writtenAt.UtcDateTime);
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
