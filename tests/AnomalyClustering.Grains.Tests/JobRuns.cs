using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Tests;

/// <summary>Submits a job and waits for its end, as a client of the cluster would.</summary>
internal static class JobRuns
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Submits and polls until the job finishes, or fails the test with the last status after ten minutes: far above the
    /// seconds these small jobs take, because a CI run on a saturated machine once took over two minutes for 24 images
    /// (LostImageCallTests); a job that hangs still fails.
    /// </summary>
    public static async Task<JobStatus> RunAsync(
        IGrainFactory grains, IBlobStore store, string jobId, JobSubmission submission, int chunkSize = JobManifestStore.DefaultChunkSize)
    {
        var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
        var status = await JobRuns.SubmitAsync(store, grains, jobId, submission, chunkSize);
        var deadline = DateTime.UtcNow + Deadline;
        while (!status.IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in {Deadline.TotalMinutes} minutes; last status {status}");
            await Task.Delay(50);
            status = await coordinator.GetStatus();
        }
        return status;
    }

    /// <summary>Submits as the API does: the manifest written to <paramref name="store"/>, then the reference to the coordinator.</summary>
    public static Task<JobStatus> SubmitAsync(
        IBlobStore store, IGrainFactory grains, string jobId, JobSubmission submission, int chunkSize = JobManifestStore.DefaultChunkSize) =>
        JobSubmitter.SubmitAsync(store, grains, jobId, submission, chunkSize, TestContext.Current.CancellationToken);

    /// <summary>The result document of a completed job.</summary>
    public static async Task<ClusteringResult> ResultAsync(IBlobStore store, JobStatus status)
    {
        Assert.True(status.State == JobState.Completed, $"job {status.JobId} ended {status.State}: {status.Error}");
        return (await JobResultFiles.ReadAsync(store, status.ResultBlob!, TestContext.Current.CancellationToken)).Result;
    }

    /// <summary>Image id to cluster.</summary>
    public static Dictionary<string, int> Clusters(ClusteringResult result) => result.Images.ToDictionary(image => image.Id, image => image.Cluster);
}
