using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;

namespace AnomalyClustering.Grains.Tests;

/// <summary>The job registry's list: statuses kept per job, pages newest first, finished jobs pruned, running ones kept.</summary>
public sealed class JobRegistryStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void PagesAreNewestFirstAndOnlyTheNewestFinishedJobsStayListed()
    {
        var registry = new JobRegistryState();
        for (var i = 0; i < 6; i++)
        {
            // Jobs 0, 2, 4 run; 1, 3, 5 finished.
            registry.Record(Status($"job-{i}", i, i % 2 == 0 ? JobState.Embedding : JobState.Completed), keepFinished: 2);
        }
        var all = registry.Page(0, 100).Select(status => status.JobId).ToArray();
        Assert.Equal(["job-5", "job-4", "job-3", "job-2", "job-0"], all);
        Assert.Equal(["job-3", "job-2"], registry.Page(2, 2).Select(status => status.JobId));
        Assert.Empty(registry.Page(5, 2));

        // A running job that finishes is listed with its new state; the oldest finished job beyond the limit leaves.
        Assert.True(registry.Record(Status("job-4", 4, JobState.Failed), keepFinished: 2));
        Assert.Equal(["job-5", "job-4", "job-2", "job-0"], registry.Page(0, 100).Select(status => status.JobId));
        Assert.Equal(JobState.Failed, registry.Page(1, 1)[0].State);
    }

    [Fact]
    public void TheSameStateRecordedAgainChangesNothing()
    {
        var registry = new JobRegistryState();
        Assert.True(registry.Record(Status("job", 0, JobState.Queued), keepFinished: 10));
        Assert.False(registry.Record(Status("job", 0, JobState.Queued), keepFinished: 10));
        Assert.True(registry.Record(Status("job", 0, JobState.Embedding), keepFinished: 10));
        Assert.Equal(JobState.Embedding, Assert.Single(registry.Page(0, 10)).State);
    }

    [Fact]
    public void AnOlderStatusRecordedLateDoesNotReplaceANewerOne()
    {
        var registry = new JobRegistryState();
        Assert.True(registry.Record(Status("job", 0, JobState.Queued), keepFinished: 10));
        Assert.True(registry.Record(Status("job", 0, JobState.Weighting) with { UpdatedAt = Start.AddMinutes(2) }, keepFinished: 10));
        // An Embedding status from before the Weighting one, arriving after it.
        Assert.False(registry.Record(Status("job", 0, JobState.Embedding) with { UpdatedAt = Start.AddMinutes(1) }, keepFinished: 10));
        Assert.Equal(JobState.Weighting, Assert.Single(registry.Page(0, 10)).State);

        // Once finished, the job stays finished whatever arrives later (even stamped later).
        Assert.True(registry.Record(Status("job", 0, JobState.Completed) with { UpdatedAt = Start.AddMinutes(3) }, keepFinished: 10));
        Assert.False(registry.Record(Status("job", 0, JobState.Clustering) with { UpdatedAt = Start.AddMinutes(2) }, keepFinished: 10));
        Assert.False(registry.Record(Status("job", 0, JobState.Clustering) with { UpdatedAt = Start.AddMinutes(4) }, keepFinished: 10));
        Assert.Equal(JobState.Completed, Assert.Single(registry.Page(0, 10)).State);
    }

    [Fact]
    public void AJobRegisteredBeforeStatusesWereKeptIsListedAsUnknown()
    {
        // The registry's earlier form kept only ids and submission times; such a job must still be listed (its coordinator answers).
        var registry = new JobRegistryState { Jobs = { ["old"] = Start } };
        registry.Record(Status("new", 1, JobState.Queued), keepFinished: 10);
        var page = registry.Page(0, 10);
        Assert.Equal(["new", "old"], page.Select(status => status.JobId));
        Assert.Equal(JobState.Unknown, page[1].State);
    }

    [Fact]
    public void ATenantsPagesHoldItsOwnJobsAndThoseWithNoTenantAndCountOnlyThose()
    {
        var registry = new JobRegistryState { Jobs = { ["before-tenancy"] = Start } };
        registry.Record(Status("a-1", 1, JobState.Queued) with { Tenant = "a" }, keepFinished: 10);
        registry.Record(Status("b-1", 2, JobState.Queued) with { Tenant = "b" }, keepFinished: 10);
        registry.Record(Status("none", 3, JobState.Queued), keepFinished: 10);
        registry.Record(Status("a-2", 4, JobState.Queued) with { Tenant = "a" }, keepFinished: 10);
        Assert.Equal(["a-2", "none", "a-1", "before-tenancy"], registry.Page(0, 10, job => job.IsVisibleTo("a")).Select(status => status.JobId));
        Assert.Equal(["a-1"], registry.Page(2, 1, job => job.IsVisibleTo("a")).Select(status => status.JobId));
        Assert.Equal(["none", "before-tenancy"], registry.Page(0, 10, job => job.IsVisibleTo(null)).Select(status => status.JobId));
        Assert.Equal(5, registry.Page(0, 10).Count);
    }

    [Fact]
    public void RetentionFindsFinishedJobsOldestFirstIncludingThosePrunedFromTheListAndNeverRunningOnes()
    {
        var registry = new JobRegistryState();
        registry.Record(Status("finished-0", 0, JobState.Completed), keepFinished: 1);
        registry.Record(Status("running-1", 1, JobState.Embedding), keepFinished: 1);
        registry.Record(Status("failed-2", 2, JobState.Failed), keepFinished: 1);
        registry.Record(Status("cancelled-3", 3, JobState.Cancelled), keepFinished: 1);
        // Only cancelled-3 stays listed; the two older finished jobs were pruned from the list but not forgotten.
        Assert.Equal(["cancelled-3", "running-1"], registry.Page(0, 10).Select(status => status.JobId));
        Assert.Equal(["finished-0", "failed-2", "cancelled-3"], registry.FinishedBefore(Start.AddMinutes(10), 10));
        Assert.Equal(["finished-0", "failed-2"], registry.FinishedBefore(Start.AddMinutes(10), 2));
        Assert.Equal(["finished-0"], registry.FinishedBefore(Start.AddMinutes(2), 10));
        // A pruned job reporting late is not listed again.
        Assert.False(registry.Record(Status("finished-0", 0, JobState.Clustering) with { UpdatedAt = Start.AddMinutes(5) }, keepFinished: 1));

        Assert.True(registry.Remove("finished-0"));
        Assert.True(registry.Remove("cancelled-3"));
        Assert.False(registry.Remove("cancelled-3"));
        Assert.Equal(["failed-2"], registry.FinishedBefore(Start.AddMinutes(10), 10));
        Assert.Equal(["running-1"], registry.Page(0, 10).Select(status => status.JobId));
    }

    [Fact]
    public void ADeletedJobStaysMarkedIgnoresLateReportsAndANewJobWithItsIdClearsTheMark()
    {
        var registry = new JobRegistryState();
        registry.Record(Status("deleted", 0, JobState.Completed), keepFinished: 10);
        registry.Record(Status("reused", 1, JobState.Cancelled), keepFinished: 10);
        // Deleted within a second of its creation: its late reports are told by its creation time, not by the clocks.
        registry.Record(Status("quick", 5, JobState.Cancelled), keepFinished: 10);
        Assert.True(registry.MarkDeleted("deleted", Start.AddMinutes(30)));
        Assert.True(registry.MarkDeleted("reused", Start.AddMinutes(20)));
        Assert.True(registry.MarkDeleted("quick", Start.AddMinutes(5).AddSeconds(1)));
        Assert.Empty(registry.Page(0, 10));
        Assert.Empty(registry.FinishedBefore(DateTimeOffset.MaxValue, 10));
        Assert.Equal(["quick", "reused", "deleted"], registry.DeletedBefore(DateTimeOffset.MaxValue, 10));
        Assert.Equal(["quick", "reused"], registry.DeletedBefore(Start.AddMinutes(25), 10));

        // Late reports of the deleted jobs list nothing and keep the marks.
        Assert.False(registry.Record(Status("deleted", 0, JobState.Clustering) with { UpdatedAt = Start.AddMinutes(31) }, keepFinished: 10));
        Assert.False(registry.Record(Status("quick", 5, JobState.Cancelled) with { UpdatedAt = Start.AddMinutes(6) }, keepFinished: 10));
        Assert.Empty(registry.Page(0, 10));
        // A new job with the reused id, created after the deletion: listed, and its prefix no longer swept as the old job's.
        Assert.True(registry.Record(Status("reused", 40, JobState.Queued), keepFinished: 10));
        Assert.Equal(["reused"], registry.Page(0, 10).Select(status => status.JobId));
        Assert.Equal(["quick", "deleted"], registry.DeletedBefore(DateTimeOffset.MaxValue, 10));
    }

    [Fact]
    public void ADeletionThatEndsAfterANewJobTookTheIdLeavesTheNewJobAlone()
    {
        var registry = new JobRegistryState();
        // The old job's deletion started at minute 10; while it ran, a new job with the id was submitted (minute 12).
        registry.Record(Status("id", 12, JobState.Queued), keepFinished: 10);
        Assert.False(registry.MarkDeleted("id", Start.AddMinutes(10)));
        Assert.Equal(["id"], registry.Page(0, 10).Select(status => status.JobId));
        Assert.Empty(registry.DeletedBefore(DateTimeOffset.MaxValue, 10));
    }

    private static JobStatus Status(string jobId, int minute, JobState state) =>
        new() { JobId = jobId, State = state, CreatedAt = Start.AddMinutes(minute), UpdatedAt = Start.AddMinutes(minute) };
}
