using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

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
        var store = new SummaryGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-cancel-race")));
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IBlobStore>(store);
            silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
            silo.UseInMemoryReminderService();
            silo.AddAnomalyClusteringGrains([SiloRoles.Coordinator, SiloRoles.GpuWorker]);
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync(TestContext.Current.CancellationToken);
        var grains = cluster.Client;
        var data = await DemoDataset.CreateAsync(store, seed: 171, imagesPerClass: 2, normals: 2);
        const string jobId = "cancel-while-writing";
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);

        await JobRuns.SubmitAsync(store, grains, jobId, data.Job(new JobOptions { Mode = "average" }));
        // The readiness signal: the result stage's last write (the summary) has reached the store and waits there.
        await store.SummaryWriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(JobState.Cancelled, (await coordinator.Cancel()).State);
        // The write was in flight: it lands although the job is cancelled by now.
        store.ReleaseSummaryWrite();

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

    /// <summary>A store whose write of a result summary waits for the test, then lands whatever the writer's token says (it was in flight).</summary>
    private sealed class SummaryGatedStore(IBlobStore inner) : IBlobStore
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SummaryWriteArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseSummaryWrite() => _release.TrySetResult();

        public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
        {
            if (name.EndsWith("/result/result.json", StringComparison.Ordinal))
            {
                SummaryWriteArrived.TrySetResult();
                await _release.Task;
                await inner.PutAsync(name, content, overwrite, CancellationToken.None);
                return;
            }
            await inner.PutAsync(name, content, overwrite, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
