using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>What a caller may see of a job: no cache hits unless an administrator (internal errors: JobIncidentsTests).</summary>
public sealed class CallerVisibleJobsTests
{
    [Fact]
    public void OnlyAnAdministratorSeesTheCacheHits()
    {
        var error = "internal error (incident 0123456789ab); the job stopped on an unexpected error; the server's log has the details under this id.";
        var job = new JobStatus { JobId = "job-with-an-internal-error", State = JobState.Failed, Error = error, CacheHits = 5 };

        var visible = CallerVisibleJobs.For(job, seesCacheHits: false);

        Assert.Equal(0, visible.CacheHits);
        // The error is answered as the grain stored it, and an administrator sees the cache hits.
        Assert.Equal(error, visible.Error);
        Assert.Equal(visible.Error, CallerVisibleJobs.For(job, seesCacheHits: true).Error);
        Assert.Equal(5, CallerVisibleJobs.For(job, seesCacheHits: true).CacheHits);
    }
}
