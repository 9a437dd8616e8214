using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AnomalyClustering.Cli.Tests;

/// <summary>What 'store list' says of a kept job (the images done as the resume will find them), and which jobs are its.</summary>
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

    [Fact]
    public async Task AServersJobIsNeitherListedNorDroppedButALeftoverOfAnEmbeddedRunIs()
    {
        using var folder = new TempFolder();
        var cancellation = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(folder.Path);
        // A completed job that 'cluster --server' sent to a one-node server on this folder (an id of the CLI's prefix, as
        // RemoteClusterRun makes them): its uploads and result in the blobs, its coordinator's state in the server's state folder.
        var serverJob = $"{EmbeddedJobIdentity.Prefix}{Guid.CreateVersion7():N}";
        var serverBlobs = new[] { JobBlobNames.UploadedImagesPrefix(serverJob) + "a.png", JobBlobNames.Result(serverJob), JobBlobNames.ImageOutcome(serverJob, 0) };
        foreach (var blob in serverBlobs)
        {
            await store.PutAsync(blob, new MemoryStream([1, 2, 3]), cancellationToken: cancellation);
        }
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        await new AtomicFileGrainStorage(ClusterHostingOptions.StateFolderOf(folder.Path), serializer).WriteStateAsync(
            JobCoordinatorState.StateName, GrainId.Create(JobCoordinatorState.GrainTypeName, serverJob),
            new GrainState<JobCoordinatorState>(new JobCoordinatorState { State = JobState.Completed, CreatedAt = DateTimeOffset.UtcNow }), cancellation);
        // And a run of the embedded CLI that stopped during its upload.
        var leftover = EmbeddedJobIdentity.Unique();
        await store.PutAsync(JobBlobNames.UploadedImagesPrefix(leftover) + "b.png", new MemoryStream([4, 5]), cancellationToken: cancellation);

        var listed = Assert.Single(await StoredJob.ListAsync(store, folder.Path, cancellation));
        Assert.Equal(leftover, listed.Id);
        var list = CliRun.InProcess("store", "list", "--store", folder.Path);
        Assert.True(list.ExitCode == CliExitCodes.Success, list.Error);
        Assert.DoesNotContain(serverJob, list.Output);
        CliRun.InProcess("store", "drop", serverJob, "--store", folder.Path).AssertOneLineError(CliExitCodes.InputError, $"holds no job '{serverJob}'");

        var drop = CliRun.InProcess("store", "drop", "--all", "--store", folder.Path);

        Assert.True(drop.ExitCode == CliExitCodes.Success, drop.Error);
        Assert.Contains($"dropped {leftover}", drop.Output);
        Assert.DoesNotContain(serverJob, drop.Output);
        Assert.False(await store.ExistsAsync(JobBlobNames.UploadedImagesPrefix(leftover) + "b.png", cancellation));
        foreach (var blob in serverBlobs)
        {
            Assert.True(await store.ExistsAsync(blob, cancellation), $"{blob} was deleted");
        }
    }
}
