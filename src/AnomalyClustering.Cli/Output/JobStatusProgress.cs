using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Embedding.Pipeline;

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
                progress.Report(new PipelineProgress(PipelineStage.EmbedImages, status.EmbeddedImages, status.TotalImages + status.TotalNormalImages));
                break;
            case JobState.Weighting:
                progress.Report(new PipelineProgress(PipelineStage.WeightPatches, status.WeightedImages, Math.Max(0, status.TotalImages - status.FailedImages)));
                break;
            case JobState.Clustering or JobState.Completed:
                progress.Report(new PipelineProgress(PipelineStage.Cluster, status.State == JobState.Completed ? 1 : 0, 1));
                break;
        }
    }
}
