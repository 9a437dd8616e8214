using System.Diagnostics;
using System.Diagnostics.Metrics;
using AnomalyClustering.Abstractions.Telemetry;

namespace AnomalyClustering.Grains.Telemetry;

/// <summary>
/// The product's own traces and metrics (one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="TelemetryNames.Source"/>). Instrument names are the contract of the Grafana dashboard (docs/telemetry-metrics.txt lists
/// their Prometheus forms); renaming one breaks a panel.
/// </summary>
public static class AnomalyClusteringTelemetry
{
    /// <summary>The tag holding the job id on every span and on per-job metrics.</summary>
    public const string JobIdTag = "anomaly_clustering.job_id";

    /// <summary>The tag holding the image id on image spans.</summary>
    public const string ImageIdTag = "anomaly_clustering.image_id";

    /// <summary>Spans: job, image, and the stages decode / embed / score / cluster.</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryNames.Source);

    /// <summary>The meter of every instrument below.</summary>
    public static readonly Meter Meter = new(TelemetryNames.Source);

    /// <summary>Images accepted into jobs (images and normal images).</summary>
    public static readonly Counter<long> ImagesReceived = Meter.CreateCounter<long>("anomaly_clustering.images.received", "{image}", "Images accepted into jobs.");

    /// <summary>Images embedded, tagged <c>cache</c> = hit | miss.</summary>
    public static readonly Counter<long> ImagesEmbedded = Meter.CreateCounter<long>("anomaly_clustering.images.embedded", "{image}", "Images embedded (cache=hit: read from the feature cache).");

    /// <summary>Images that failed, tagged <c>reason</c>.</summary>
    public static readonly Counter<long> ImagesFailed = Meter.CreateCounter<long>("anomaly_clustering.images.failed", "{image}", "Images that could not be used, by reason.");

    /// <summary>Seconds per stage, tagged <c>stage</c> = decode | embed | score | cluster.</summary>
    public static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>("anomaly_clustering.stage.duration", "s", "Duration of one stage of one image (decode, embed, score) or job (cluster).");

    /// <summary>Images whose patch scores were computed, by nearest-patch kernel (cpu: the SIMD kernel; onnx: the graph on the backbone's provider).</summary>
    public static readonly Counter<long> PatchScores = Meter.CreateCounter<long>("anomaly_clustering.patch_scores", "{image}", "Images whose patch scores were computed, by kernel (cpu or onnx).");

    /// <summary>Feature-cache reads that found the bag.</summary>
    public static readonly Counter<long> FeatureCacheHits = Meter.CreateCounter<long>("anomaly_clustering.feature_cache.hits", "{read}", "Feature-cache reads that found the patch bag.");

    /// <summary>Feature-cache reads that did not.</summary>
    public static readonly Counter<long> FeatureCacheMisses = Meter.CreateCounter<long>("anomaly_clustering.feature_cache.misses", "{read}", "Feature-cache reads that did not find the patch bag.");

    /// <summary>Jobs running now.</summary>
    public static readonly UpDownCounter<long> JobsActive = Meter.CreateUpDownCounter<long>("anomaly_clustering.jobs.active", "{job}", "Jobs running now.");

    /// <summary>Jobs finished, tagged <c>outcome</c> = completed | failed | cancelled.</summary>
    public static readonly Counter<long> JobsCompleted = Meter.CreateCounter<long>("anomaly_clustering.jobs.completed", "{job}", "Jobs finished, by outcome.");

    /// <summary>Finished jobs deleted by retention (with their uploads, outcomes and result).</summary>
    public static readonly Counter<long> JobsExpired = Meter.CreateCounter<long>("anomaly_clustering.jobs.expired", "{job}", "Finished jobs deleted by retention with their blobs.");

    /// <summary>Seconds from a job's submission to its end.</summary>
    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>("anomaly_clustering.job.duration", "s", "Seconds from submission to the end of a job.");

    /// <summary>Images finished per job stage, tagged <c>stage</c> = process (an image embedded and weighed; job progress).</summary>
    public static readonly Counter<long> JobImagesDone = Meter.CreateCounter<long>("anomaly_clustering.job.images.done", "{image}", "Images finished per job stage (process: embedded and weighed).");

    /// <summary>Image work running on a silo now, tagged <c>silo</c>.</summary>
    public static readonly UpDownCounter<long> WorkInFlight = Meter.CreateUpDownCounter<long>("anomaly_clustering.work.in_flight", "{request}", "Image grain requests running now, per silo.");

    /// <summary>Seconds of the clustering step (distances, linkage, cut).</summary>
    public static readonly Histogram<double> ClusteringDuration = Meter.CreateHistogram<double>("anomaly_clustering.clustering.duration", "s", "Seconds of distances, linkage and cut of one job.");

    /// <summary>N of each clustering step.</summary>
    public static readonly Histogram<long> ClusteringImages = Meter.CreateHistogram<long>("anomaly_clustering.clustering.images", "{image}", "Images clustered by one job.");

    /// <summary>Images decided per production line (stored decisions, repeats not counted), tagged <c>line</c>, <c>tenant</c> and <c>outcome</c> = assigned | ambiguous | novel | error.</summary>
    public static readonly Counter<long> LineImages = Meter.CreateCounter<long>("anomaly_clustering.line.images", "{image}", "Images decided per production line, by outcome.");

    /// <summary>Of <see cref="LineImages"/>, those scored above the catalog's detection threshold (0 is added for the others, so the defective rate is this over images).</summary>
    public static readonly Counter<long> LineDefective = Meter.CreateCounter<long>("anomaly_clustering.line.defective", "{image}", "Images of a line scored above its catalog's detection threshold.");

    /// <summary>Images assigned to a defect type, tagged <c>line</c>, <c>tenant</c> and <c>type</c> (the catalog's name).</summary>
    public static readonly Counter<long> LineAssignments = Meter.CreateCounter<long>("anomaly_clustering.line.assignments", "{image}", "Images of a line assigned to a defect type, by type.");

    /// <summary>Images flagged novel (no known type), tagged <c>line</c> and <c>tenant</c> (0 is added for the others).</summary>
    public static readonly Counter<long> LineNovel = Meter.CreateCounter<long>("anomaly_clustering.line.novel", "{image}", "Images of a line flagged as a type never seen before.");

    /// <summary>Seconds from an image's arrival (its intake message sent, or its post received) to its stored decision, tagged <c>line</c> and <c>tenant</c>.</summary>
    public static readonly Histogram<double> LineDecisionDuration = Meter.CreateHistogram<double>("anomaly_clustering.line.decision.duration", "s", "Seconds from an image's arrival to its stored decision.");

    /// <summary>Starts a span tagged with the job (and image) id; null when nobody listens.</summary>
    public static Activity? StartSpan(string name, string jobId, string? imageId = null, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = ActivitySource.StartActivity(name, kind);
        activity?.SetTag(JobIdTag, jobId);
        if (imageId is not null)
        {
            activity?.SetTag(ImageIdTag, imageId);
        }
        return activity;
    }

    /// <summary>Records a stage's duration and ends its span.</summary>
    public static void EndStage(Activity? span, string stage, Stopwatch clock)
    {
        StageDuration.Record(clock.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
        span?.Dispose();
    }
}
