using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A cancel that lands while the coordinator writes the result (its last await before completing) ends the job cancelled
/// with no result: neither a result in its status nor result files left in the store.
/// </summary>
public sealed class CoordinatorCancelTests
{
    [Fact]
    public async Task ACancelWhileTheResultIsWrittenLeavesACancelledJobWithoutAResult()
    {
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-cancel-race")), name => name.EndsWith("/result/result.json", StringComparison.Ordinal));
        await using var cluster = await OneSiloCluster.StartAsync(store);
        var grains = cluster.Client;
        var data = await DemoDataset.CreateAsync(store, seed: 171, imagesPerClass: 2, normals: 2);
        const string jobId = "cancel-while-writing";
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);

        await JobRuns.SubmitAsync(store, grains, jobId, data.Job(new JobOptions { Mode = "average" }));
        // The readiness signal: the result stage's last write (the summary) has reached the store and waits there.
        await store.WriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(JobState.Cancelled, (await coordinator.Cancel()).State);
        // The write was in flight: it lands although the job is cancelled by now.
        store.Release();

        // Until the coordinator has dealt with the landed write: it either removed the result or recorded it.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JobStatus status;
        while ((status = await coordinator.GetStatus()).ResultBlob is null && await AnyBlobAsync(store, JobResultFiles.Folder(jobId)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the cancelled job's result files are still there");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(JobState.Cancelled, status.State);
        Assert.Null(status.ResultBlob);
        Assert.False(await store.ExistsAsync(JobBlobNames.Result(jobId), TestContext.Current.CancellationToken), "a cancelled job has no result summary");
        await cluster.StopAllSilosAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<bool> AnyBlobAsync(IBlobStore store, string prefix)
    {
        await foreach (var _ in store.ListAsync(prefix))
        {
            return true;
        }
        return false;
    }
}
