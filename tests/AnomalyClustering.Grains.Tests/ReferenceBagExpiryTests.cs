using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A job reads its normal or reference bags from the feature cache (hits on old entries) and pins them after: an expiry
/// pass that deletes such an entry between the read and the pin must not cost the job its normal bank or its references.
/// </summary>
public sealed class ReferenceBagExpiryTests
{
    [Theory]
    [InlineData("semi-supervised")]
    [InlineData("unsupervised")]
    public async Task BagsThatExpireBeforeTheirPinAreEmbeddedAgain(string mode)
    {
        var cancel = TestContext.Current.CancellationToken;
        var jobId = "bags-expired-before-pin-" + mode;
        var inner = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-bags-expired"));
        var pins = FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner(jobId));
        var store = new WriteGatedStore(inner, name => name.StartsWith(pins, StringComparison.Ordinal));
        await using var cluster = await OneSiloCluster.StartAsync(store);
        var data = await DemoDataset.CreateAsync(store, seed: 211, imagesPerClass: 2, normals: 3);
        var job = data.Job(new JobOptions { Mode = mode });

        // The job's bags are embedded (or found in the cache); at its pin, every unpinned cache entry expires.
        var running = JobRuns.RunAsync(cluster.Client, store, jobId, job);
        await store.WriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(5), cancel);
        var expired = 0;
        await foreach (var entry in inner.ListAsync(FeatureCacheKey.BlobPrefix, cancel))
        {
            expired += await inner.DeleteAsync(entry.Name, cancel) ? 1 : 0;
        }
        Assert.True(expired > 0, "no cache entry to expire");
        store.Release();

        var finished = await running;
        Assert.Equal(JobState.Completed, finished.State);
        Assert.Equal(0, finished.FailedImages);
        // Every bag the job pinned exists again.
        await foreach (var pin in inner.ListAsync(pins, cancel))
        {
            var entry = FeatureCacheKey.BlobPrefix + pin.Name[pins.Length..];
            Assert.True(await inner.ExistsAsync(entry, cancel), $"{entry} is pinned but gone");
        }
        await cluster.StopAllSilosAsync(cancel);
    }
}
