using System.Collections.Concurrent;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A job's id refuses new jobs from the moment its deletion begins until it ends: a submission or retry interleaved with
/// the deletion's stop of the running job, or made while its blobs are being deleted (and after its coordinator was
/// reactivated meanwhile), gets <see cref="JobBeingDeletedException"/>, so no new job's blobs go with the old job's. Once the
/// deletion ends, the id takes a new job, which completes.
/// </summary>
public sealed class CoordinatorDeletionTests
{
    [Fact]
    public async Task AnIdRefusesNewJobsFromTheStartOfItsDeletionToItsEnd()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-delete-race")), name => name.Contains("/outcomes/", StringComparison.Ordinal));
        await using var cluster = await OneSiloCluster.StartAsync(store);
        var grains = cluster.Client;
        var data = await DemoDataset.CreateAsync(store, seed: 173, imagesPerClass: 2, normals: 2);
        var job = data.Job(new JobOptions { Mode = "semi-supervised" });
        const string jobId = "deleted-while-running";
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);

        await JobRuns.SubmitAsync(store, grains, jobId, job);
        // The readiness signal: an image's outcome write has reached the store and waits there (the job runs).
        await store.WriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), cancel);
        var beginning = coordinator.BeginDeletion();
        // The mark is set before the deletion's first wait, so a status call interleaved with that wait shows it.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JobStatus status;
        while ((status = await coordinator.GetStatus()).DeletionStartedAt is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deletion's mark was not shown");
            await Task.Delay(20, cancel);
        }
        Assert.False(beginning.IsCompleted, "the deletion waits for the running job's image work");
        // A second deletion asked for meanwhile shares the first's start: it does not go on to delete blobs under a running job.
        var again = coordinator.BeginDeletion();
        await Task.Delay(200, cancel);
        Assert.False(again.IsCompleted, "a second deletion waited for the first one's stop");
        var refused = await Assert.ThrowsAsync<JobBeingDeletedException>(() => JobRuns.SubmitAsync(store, grains, jobId, job));
        Assert.Equal(status.DeletionStartedAt, refused.DeletionStartedAt);
        Assert.Contains($"job '{jobId}' is being deleted", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => coordinator.Retry());
        // The coordinator refuses too, not only the submitter that asked it first (a submission that checked before the mark).
        var manifest = (await coordinator.GetManifest())!;
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => coordinator.Submit(new JobSpecification(manifest, job.Options, job.BackboneDescriptionJson, job.Source)));

        store.Release();
        var started = await beginning.WaitAsync(TimeSpan.FromMinutes(2), cancel);
        Assert.Equal(status.DeletionStartedAt, started);
        Assert.Equal(started, await again.WaitAsync(TimeSpan.FromMinutes(1), cancel));

        // Reactivated in the middle of the deletion (a silo restart, idle collection): the mark is stored, the job stays
        // stopped and the id refused.
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, cancel);
        var reactivated = await coordinator.GetStatus();
        Assert.Equal(started, reactivated.DeletionStartedAt);
        Assert.True(reactivated.State.IsActive(), $"the job was stopped, not finished: {reactivated.State}");
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => JobRuns.SubmitAsync(store, grains, jobId, job));

        // The job's normal bags are pinned against feature-cache expiry while it exists, and unpinned by its deletion.
        Assert.Equal(data.NormalImages.Count, await PinsAsync(store, jobId));
        await JobDeletion.DeleteAsync(grains, store, jobId, cancel);
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        Assert.Equal(0, await PinsAsync(store, jobId));
        var next = await JobRuns.RunAsync(grains, store, jobId, job);
        Assert.Equal(JobState.Completed, next.State);
        Assert.Null(next.DeletionStartedAt);
        Assert.Equal(data.Images.Count, (await JobRuns.ResultAsync(store, next)).Images.Count);
        Assert.Equal(data.NormalImages.Count, await PinsAsync(store, jobId));

        // Retention's deletion of the job that expired before the id was taken again leaves the new job alone.
        Assert.False(await JobDeletion.DeleteAsync(grains, store, jobId, cancel, onlyIfFinishedBefore: next.CreatedAt));
        Assert.Equal(JobState.Completed, (await coordinator.GetStatus()).State);
        Assert.True(await JobDeletion.DeleteAsync(grains, store, jobId, cancel, onlyIfFinishedBefore: DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        await cluster.StopAllSilosAsync(cancel);
    }

    [Fact]
    public async Task RetentionDeletesAnExpiredJobWhoseCoordinatorWasRebuiltFromItsRecord()
    {
        var cancel = TestContext.Current.CancellationToken;
        var states = new ConcurrentDictionary<string, (object State, string ETag)>();
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-delete-rebuilt"));
        await using var cluster = await OneSiloCluster.StartAsync(store, jobStates: states);
        var data = await DemoDataset.CreateAsync(store, seed: 179, imagesPerClass: 2, normals: 2);
        const string jobId = "rebuilt-from-record";
        var coordinator = cluster.Client.GetGrain<IClusteringJobGrain>(jobId);
        // A job that fails at once (its only normal image is missing): failed jobs keep their record.
        var failing = data.Job(new JobOptions { Mode = "semi-supervised" }) with { NormalImages = [new JobImage("gone", "nowhere/gone.png")] };
        Assert.Equal(JobState.Failed, (await JobRuns.RunAsync(cluster.Client, store, jobId, failing)).State);
        var expiredBefore = DateTimeOffset.UtcNow;

        // What an empty Redis leaves: no coordinator state. The next activation rebuilds the job from its record, and so
        // stamps its last change with now.
        states.Clear();
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, cancel);
        var rebuilt = await coordinator.GetStatus();
        Assert.Equal(JobState.Failed, rebuilt.State);
        Assert.True(rebuilt.UpdatedAt > expiredBefore, $"rebuilt at {rebuilt.UpdatedAt:O}, expired before {expiredBefore:O}");

        // Retention's pass still recognises the job that expired (by its creation) and deletes it.
        Assert.True(await JobDeletion.DeleteAsync(cluster.Client, store, jobId, cancel, onlyIfFinishedBefore: expiredBefore));
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        await cluster.StopAllSilosAsync(cancel);
    }

    private static async Task<int> PinsAsync(IBlobStore store, string jobId)
    {
        var pins = 0;
        await foreach (var _ in store.ListAsync(FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner(jobId)), TestContext.Current.CancellationToken))
        {
            pins++;
        }
        return pins;
    }
}
