using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Output;

/// <summary>Shows a job's status counts (embedded silo or remote server) as the pipeline stages the progress display knows.</summary>
internal static class JobStatusProgress
{
    /// <summary>Reports <paramref name="status"/> as the progress of its stage.</summary>
    public static void Report(JobStatus status, IProgress<PipelineProgress> progress)
    {
        switch (status.State)
        {
            case JobState.Queued or JobState.Embedding:
                // The references (R+1 images, all when exact) or the normal bank. A failed reference is replaced by the next
                // candidate, so the count may pass the total it was given.
                progress.Report(new PipelineProgress(PipelineStage.EmbedImages, status.EmbeddedImages,
                    Math.Max(status.EmbeddedImages, status.ReferenceImagesToEmbed > 0 ? status.ReferenceImagesToEmbed : status.TotalNormalImages)));
                break;
            case JobState.Weighting:
                progress.Report(new PipelineProgress(PipelineStage.WeightPatches, status.WeightedImages, Math.Max(0, status.TotalImages - status.FailedImages)));
                break;
            case JobState.Clustering or JobState.Completed:
                progress.Report(new PipelineProgress(PipelineStage.Cluster, status.State == JobState.Completed ? 1 : 0, 1));
                break;
        }
    }

    /// <summary>
    /// Polls a job every <paramref name="interval"/> until it finishes, reporting each status; when the caller cancels
    /// (Ctrl+C), asks the job to cancel too (nobody would fetch its result) and rethrows. Shared by embedded and remote runs.
    /// </summary>
    public static async Task<JobStatus> FollowAsync(
        JobStatus status, Func<CancellationToken, Task<JobStatus>> poll, Func<Task> cancelJob, TimeSpan interval, IProgress<PipelineProgress>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            while (!status.IsFinished)
            {
                if (progress is not null)
                {
                    Report(status, progress);
                }
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                status = await poll(cancellationToken).ConfigureAwait(false);
            }
            if (progress is not null)
            {
                Report(status, progress);
            }
            return status;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await cancelJob().ConfigureAwait(false);
            throw;
        }
    }
}
