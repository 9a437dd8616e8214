using System.Collections.Concurrent;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A job's deletion runs in its coordinator, once whoever asks for it: the id refuses new jobs from the moment the deletion
/// begins until it ends (a submission or retry interleaved with the deletion's stop of the running job, or made while its
/// blobs are being deleted, gets <see cref="JobBeingDeletedException"/>, so no new job's blobs go with the old job's); a
/// deletion cut short by its silo's end goes on at the coordinator's next activation, and one whose store fails says why
/// and tries again. Once the deletion ends, the id takes a new job, which completes.
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
        // The deletion's steps will be held at their first outcome delete (they reach it once the job's image work has ended).
        store.HoldDeletes(JobBlobNames.OutcomesPrefix(jobId));
        // The deletion returns once the coordinator's own run has stopped and the mark is stored.
        var started = Assert.NotNull(await coordinator.Delete().WaitAsync(TimeSpan.FromMinutes(2), cancel));
        Assert.Equal(started, (await coordinator.GetStatus()).DeletionStartedAt);
        // The job's image work is still in flight (its write is held): the deletion's steps wait for the shards' stop before
        // they delete anything.
        Assert.False(await coordinator.WaitForDeletion(started, TimeSpan.FromMilliseconds(300)), "the deletion waits for the job's image work");
        Assert.DoesNotContain(store.Deletes.Keys, name => name.StartsWith(JobBlobNames.OutcomesPrefix(jobId), StringComparison.Ordinal));
        // A second deletion asked for meanwhile joins the first: it does not go on to delete blobs under a running job.
        Assert.Equal(started, await coordinator.Delete());
        var refused = await Assert.ThrowsAsync<JobBeingDeletedException>(() => JobRuns.SubmitAsync(store, grains, jobId, job));
        Assert.Equal(started, refused.DeletionStartedAt);
        Assert.Contains($"job '{jobId}' is being deleted", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => coordinator.Retry());
        // The coordinator refuses too, not only the submitter that asked it first (a submission that checked before the mark).
        var manifest = (await coordinator.GetManifest())!;
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => coordinator.Submit(new JobSpecification(manifest, job.Options, job.BackboneDescriptionJson, job.Source)));

        // The job's image work ends; the deletion's steps go on to the held delete.
        store.Release();
        await store.DeleteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), cancel);
        Assert.False(await coordinator.WaitForDeletion(started, TimeSpan.FromMilliseconds(200)), "the held deletion has not ended");
        var deletingStatus = await coordinator.GetStatus();
        Assert.Equal(started, deletingStatus.DeletionStartedAt);
        Assert.True(deletingStatus.State.IsActive(), $"the job was stopped, not finished: {deletingStatus.State}");
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => JobRuns.SubmitAsync(store, grains, jobId, job));
        // A third deletion joins the one that runs.
        Assert.Equal(started, await coordinator.Delete());

        // The job's normal bags are pinned against feature-cache expiry while it exists, and unpinned by its deletion.
        Assert.Equal(data.NormalImages.Count, await PinsAsync(store, jobId));
        store.ReleaseDeletes();
        Assert.True(await JobDeletion.DeleteAsync(grains, jobId, cancel));
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        Assert.Equal(0, await PinsAsync(store, jobId));
        // One deletion ran, whoever asked for it: every blob was deleted once (two runs side by side list and delete the same).
        var repeated = store.Deletes.Where(pair => pair.Value > 1).Select(pair => $"{pair.Key} x{pair.Value}").ToList();
        Assert.True(repeated.Count == 0, "deleted more than once: " + string.Join(", ", repeated));
        Assert.Contains(store.Deletes.Keys, name => name.StartsWith($"jobs/{jobId}/", StringComparison.Ordinal));
        var next = await JobRuns.RunAsync(grains, store, jobId, job);
        Assert.Equal(JobState.Completed, next.State);
        Assert.Null(next.DeletionStartedAt);
        Assert.Equal(data.Images.Count, (await JobRuns.ResultAsync(store, next)).Images.Count);
        Assert.Equal(data.NormalImages.Count, await PinsAsync(store, jobId));

        // Retention's deletion of the job that expired before the id was taken again leaves the new job alone.
        Assert.False(await JobDeletion.DeleteAsync(grains, jobId, cancel, onlyIfFinishedBefore: next.CreatedAt));
        Assert.Equal(JobState.Completed, (await coordinator.GetStatus()).State);
        Assert.True(await JobDeletion.DeleteAsync(grains, jobId, cancel, onlyIfFinishedBefore: DateTimeOffset.UtcNow.AddSeconds(1)));
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
        Assert.True(await JobDeletion.DeleteAsync(cluster.Client, jobId, cancel, onlyIfFinishedBefore: expiredBefore));
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        await cluster.StopAllSilosAsync(cancel);
    }

    [Fact]
    public async Task ADeletionCutShortBySilosEndGoesOnWhenItsCoordinatorIsActivatedAgain()
    {
        var cancel = TestContext.Current.CancellationToken;
        var states = new ConcurrentDictionary<string, (object State, string ETag)>();
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-delete-resumed")), _ => false);
        var data = await DemoDataset.CreateAsync(store, seed: 181, imagesPerClass: 2, normals: 2);
        const string jobId = "deletion-outlives-its-silo";
        DateTimeOffset started;
        await using (var first = await OneSiloCluster.StartAsync(store, jobStates: states))
        {
            Assert.Equal(JobState.Completed, (await JobRuns.RunAsync(first.Client, store, jobId, data.Job(new JobOptions { Mode = "semi-supervised" }))).State);
            store.HoldDeletes(JobBlobNames.OutcomesPrefix(jobId));
            started = Assert.NotNull(await first.Client.GetGrain<IClusteringJobGrain>(jobId).Delete());
            await store.DeleteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), cancel);
            // The silo ends while the deletion waits at a delete: the coordinator deactivates and the deletion stops.
            await first.StopAllSilosAsync(cancel);
        }
        Assert.NotEmpty(await BlobsAsync(store, $"jobs/{jobId}/"));
        store.ReleaseDeletes();

        // A new silo over the same state: the first call activates the coordinator, which goes on with the deletion by itself.
        await using var second = await OneSiloCluster.StartAsync(store, jobStates: states);
        var coordinator = second.Client.GetGrain<IClusteringJobGrain>(jobId);
        var status = await coordinator.GetStatus();
        Assert.Equal(started, status.DeletionStartedAt);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while ((status = await coordinator.GetStatus()).DeletionStartedAt is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deletion did not go on after the coordinator's activation");
            await Task.Delay(50, cancel);
        }
        Assert.Equal(JobState.Unknown, status.State);
        Assert.Empty(await BlobsAsync(store, $"jobs/{jobId}/"));
        Assert.Empty(await BlobsAsync(store, $"uploads/{jobId}/"));
        Assert.Equal(0, await PinsAsync(store, jobId));
        await second.StopAllSilosAsync(cancel);
    }

    [Fact]
    public async Task ADeletionWhoseStoreFailsSaysWhyAndTriesAgainUntilItEnds()
    {
        var cancel = TestContext.Current.CancellationToken;
        var store = new WriteGatedStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-delete-retried")), _ => false);
        await using var cluster = await OneSiloCluster.StartAsync(store);
        var data = await DemoDataset.CreateAsync(store, seed: 191, imagesPerClass: 2, normals: 2);
        const string jobId = "deleted-through-an-outage";
        var coordinator = cluster.Client.GetGrain<IClusteringJobGrain>(jobId);
        Assert.Equal(JobState.Completed, (await JobRuns.RunAsync(cluster.Client, store, jobId, data.Job(new JobOptions { Mode = "semi-supervised" }))).State);

        // The store fails the first three deletes of the job's outcomes (each failure ends one attempt; pauses of 1, 2 and 4 s follow).
        store.FailDeletes(JobBlobNames.OutcomesPrefix(jobId), 3);
        var started = Assert.NotNull(await coordinator.Delete());
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JobStatus status;
        while ((status = await coordinator.GetStatus()).DeletionError is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed attempt was not shown");
            await Task.Delay(20, cancel);
        }
        Assert.Equal(started, status.DeletionStartedAt);
        Assert.Contains("the store is away", status.DeletionError, StringComparison.Ordinal);

        Assert.True(await JobDeletion.DeleteAsync(cluster.Client, jobId, cancel));
        Assert.Equal(JobState.Unknown, (await coordinator.GetStatus()).State);
        Assert.Empty(await BlobsAsync(store, $"jobs/{jobId}/"));
        Assert.Empty(await BlobsAsync(store, $"uploads/{jobId}/"));
        await cluster.StopAllSilosAsync(cancel);
    }

    [Fact]
    public async Task ARetryInFlightWhenTheDeletionStartsBringsNothingBack()
    {
        var cancel = TestContext.Current.CancellationToken;
        const string jobId = "retried-while-deleted";
        var gateRecord = false;
        var store = new WriteGatedStore(
            new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-delete-retried-job")), name => gateRecord && name == JobBlobNames.Record(jobId));
        await using var cluster = await OneSiloCluster.StartAsync(store);
        var data = await DemoDataset.CreateAsync(store, seed: 197, imagesPerClass: 2, normals: 2);
        var coordinator = cluster.Client.GetGrain<IClusteringJobGrain>(jobId);
        // A job that fails at once (its only normal image is missing); its record is then marked failed.
        var failing = data.Job(new JobOptions { Mode = "semi-supervised" }) with { NormalImages = [new JobImage("gone", "nowhere/gone.png")] };
        Assert.Equal(JobState.Failed, (await JobRuns.RunAsync(cluster.Client, store, jobId, failing)).State);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while ((await JobRecordStore.ReadAsync(store, jobId, cancel))?.FinishedState != JobState.Failed)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed job's record was not settled");
            await Task.Delay(20, cancel);
        }

        // A retry whose record write (the job runs again) is in flight when the deletion starts.
        gateRecord = true;
        var retry = coordinator.Retry();
        await store.WriteArrived.Task.WaitAsync(TimeSpan.FromMinutes(2), cancel);
        var deleting = coordinator.Delete();
        await Task.Delay(300, cancel);
        Assert.False(deleting.IsCompleted, "the deletion's start waits for the retry in flight");

        // The retry's write lands, the retry sees the deletion and stops; the deletion goes on after it and leaves nothing.
        store.Release();
        await Assert.ThrowsAsync<JobBeingDeletedException>(() => retry);
        Assert.NotNull(await deleting.WaitAsync(TimeSpan.FromMinutes(2), cancel));
        Assert.True(await JobDeletion.DeleteAsync(cluster.Client, jobId, cancel));
        Assert.False(await store.ExistsAsync(JobBlobNames.Record(jobId), cancel), "the retry's record outlived the deletion");
        var after = await coordinator.GetStatus();
        Assert.Equal(JobState.Unknown, after.State);
        Assert.Null(after.DeletionStartedAt);
        await cluster.StopAllSilosAsync(cancel);
    }

    private static async Task<List<string>> BlobsAsync(IBlobStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            names.Add(blob.Name);
        }
        return names;
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
