using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AnomalyClustering.Cli.Tests;

/// <summary>What 'store list' says of a kept job: the images done as the resume will find them.</summary>
public sealed class StoredJobTests
{
    [Fact]
    public async Task ImagesDoneAreTheCoordinatorsRecordedProgressNotTheOutcomeBlobs()
    {
        using var folder = new TempFolder();
        var cancellation = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(folder.Path);
        var id = EmbeddedJobIdentity.Unique();
        // Seven outcome blobs: images in flight when the run stopped wrote theirs after the coordinator's last checkpoint,
        // which recorded 4 processed in a finished shard (1 unusable) and 2 in a running one.
        for (var image = 0; image < 7; image++)
        {
            await store.PutAsync(JobBlobNames.ImageOutcome(id, image), new MemoryStream([1, 2, 3]), cancellationToken: cancellation);
        }
        var state = new JobCoordinatorState { ProcessedInDoneShards = 4, FailedInDoneShards = 1 };
        state.ActiveShards[1] = new ShardProgress(Images: 4096, Processed: 2, Failed: 0, CacheHits: 0, EmbeddingsBlob: null, GridHeight: 0, GridWidth: 0);
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        await new AtomicFileGrainStorage(EmbeddedCluster.GrainStateFolderOf(folder.Path), serializer).WriteStateAsync(
            JobCoordinatorState.StateName, GrainId.Create(JobCoordinatorState.GrainTypeName, id), new GrainState<JobCoordinatorState>(state), cancellation);

        var job = Assert.Single(await StoredJob.ListAsync(store, folder.Path, cancellation));

        Assert.Equal(id, job.Id);
        Assert.Equal(state.WeightedImages(), job.ImagesDone);
        Assert.Equal(5, job.ImagesDone);
    }

    [Fact]
    public async Task AJobWithoutCoordinatorStateHasNoImagesDone()
    {
        using var folder = new TempFolder();
        var cancellation = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(folder.Path);
        var id = EmbeddedJobIdentity.Unique();
        await store.PutAsync(JobBlobNames.ImageOutcome(id, 0), new MemoryStream([1]), cancellationToken: cancellation);

        var job = Assert.Single(await StoredJob.ListAsync(store, folder.Path, cancellation));

        Assert.Equal(0, job.ImagesDone);
    }
}
