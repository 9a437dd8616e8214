using System.Diagnostics;
using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Images;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>A job's clustered result with what its files need besides it.</summary>
/// <param name="Result">The result (its images carry x_i only for small jobs).</param>
/// <param name="Embeddings">Every image's x_i, N x D row-major in result order.</param>
/// <param name="ImageIndices">Each result row's index in the job's manifest (where its outcome blob is).</param>
internal sealed record JobResultData(ClusteringResult Result, float[] Embeddings, int[] ImageIndices);

/// <summary>
/// The last stage of a job: reads the shards' columnar embeddings (one blob per shard, in image order), the ids and labels
/// from the manifest, clusters, adds the anomaly scores and the label-free threshold, and writes the result files.
/// The embeddings are held once, as one N x D matrix each shard's blob is streamed into.
/// </summary>
internal static class JobResultStage
{
    public static async Task<JobResultData> RunAsync(JobRunContext run, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var manifest = run.Manifest;
        var shardCount = manifest.ImageChunkCount;
        // The matrix is sized from the shards' counts and each shard's blob is copied in as it is read, so the embeddings
        // are held once (reading every blob first held them twice: 2 GB more at a million images).
        var kept = run.State.ProcessedInDoneShards - run.State.FailedInDoneShards;
        var failures = await FailuresAsync(run).ConfigureAwait(true);
        if (kept < 2)
        {
            throw new InvalidClusteringInputException(
                $"only {kept} of {manifest.ImageCount} images could be used; clustering needs at least 2{MessageParts.InParentheses(failures.FirstOrDefault(f => !f.IsNormalImage)?.Message)}.", "images");
        }
        float[]? matrix = null;
        var dimension = 0;
        var scores = new double[kept];
        var hashes = new string?[kept];
        var indices = new int[kept];
        var ids = new string[kept];
        var labels = manifest.HasLabels ? new string[kept] : null;
        // One string per class, not per image: each manifest chunk reads its own copies (30 MB at a million images).
        var classes = new Dictionary<string, string>(StringComparer.Ordinal);
        var row = 0;
        for (var shard = 0; shard < shardCount; shard++)
        {
            var start = row;
            var part = await BoundedFanOut.WithRetriesAsync(async () =>
            {
                await using var stream = await run.Store.OpenReadAsync(JobBlobNames.ShardEmbeddings(run.JobId, shard), cancellationToken).ConfigureAwait(false);
                return await ShardEmbeddingsFormat.ReadIntoAsync(stream, (rows, width) =>
                {
                    if (start + rows > kept || (matrix is not null && width != dimension))
                    {
                        throw new InvalidDataException($"shard {shard} of job {run.JobId} does not match the counts its shards reported.");
                    }
                    if (matrix is null)
                    {
                        dimension = width;
                        matrix = new float[(long)kept * dimension];
                    }
                    return matrix.AsMemory(start * dimension, rows * dimension);
                }, cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(true);
            if (part.ImageIndices.Length == 0)
            {
                continue;
            }
            var chunk = await JobManifestStore.ReadImageChunkAsync(run.Store, manifest, shard, cancellationToken).ConfigureAwait(true);
            part.AnomalyScores.CopyTo(scores, row);
            part.ContentHashes.CopyTo(hashes, row);
            part.ImageIndices.CopyTo(indices, row);
            foreach (var index in part.ImageIndices)
            {
                var image = chunk[index - (shard * manifest.ChunkSize)];
                ids[row] = image.Id;
                if (labels is not null)
                {
                    labels[row] = classes.TryGetValue(image.Label!, out var known) ? known : classes[image.Label!] = image.Label!;
                }
                row++;
            }
        }
        if (row != kept || matrix is null)
        {
            throw new InvalidDataException($"the shards of job {run.JobId} hold {row} embeddings; their counts said {kept}.");
        }
        EmbeddingClustering.CheckClusterCount(options, kept, labels?.Distinct(StringComparer.Ordinal).Count());

        var weights = kept <= run.Options.AlphaMapsInResultUpTo ? await AlphaMapsAsync(run, indices, cancellationToken).ConfigureAwait(true) : null;
        var threshold = await DetectionThresholdAsync(run, options, cancellationToken).ConfigureAwait(true);

        var clock = Stopwatch.StartNew();
        var span = AnomalyClusteringTelemetry.StartSpan("cluster", run.JobId);
        span?.SetTag("anomaly_clustering.images", kept);
        // All or nothing: a job without scores (average mode) has none rather than gaps.
        var anomalyScores = scores.Any(double.IsNaN) ? null : scores;
        // Resolved to the graph on first use only: a job clustered without k-means makes no session.
        var centreAssignment = run.CentreAssignment?.For(dimension, options.ThreadCount());
        var clustered = await Task.Run(() => EmbeddingClustering.Run(
                matrix, kept, dimension, ids, labels, options, weights, progress: null, anomalyScores, threshold, centreAssignment), cancellationToken)
            .ConfigureAwait(true);
        AnomalyClusteringTelemetry.ClusteringDuration.Record(clock.Elapsed.TotalSeconds);
        AnomalyClusteringTelemetry.ClusteringImages.Record(kept);
        AnomalyClusteringTelemetry.EndStage(span, "cluster", clock);
        run.AddStageTime(PipelineStage.Cluster, clock.Elapsed);

        // Off the turn like the clustering: at a million images this copies every per-image record and sorts the scores
        // for the detection figures.
        var scored = await Task.Run(() => WithScoresAndContentHashes(clustered, anomalyScores, threshold, hashes), cancellationToken).ConfigureAwait(true);
        var result = scored with
        {
            Errors = failures.Select(f => new ImageError(f.Id, f.BlobName, f.Reason, f.Message, f.IsNormalImage)).ToArray(),
            PatchGridHeight = run.State.GridHeight,
            PatchGridWidth = run.State.GridWidth,
            Timings = run.State.StageSeconds.Select(pair => new StageTiming(Enum.Parse<PipelineStage>(pair.Key), TimeSpan.FromSeconds(pair.Value))).ToArray(),
        };
        return new JobResultData(result with { Warnings = await WarningsAsync(run, result, options, cancellationToken).ConfigureAwait(true) }, matrix, indices);
    }

    /// <summary>
    /// The result's warnings (<see cref="ResultWarnings"/>): the label classes of the manifest none of whose images could be
    /// used, with their file counts, and a patch grid too small for the method. <paramref name="requested"/>: the job's options
    /// before K was resolved. The manifest is read again only when a class lacks images (its file count is not known otherwise).
    /// </summary>
    private static async Task<IReadOnlyList<ResultWarning>> WarningsAsync(
        JobRunContext run, ClusteringResult result, ClusteringJobOptions requested, CancellationToken cancellationToken)
    {
        var manifest = run.Manifest;
        var warnings = new List<ResultWarning>();
        var missing = ResultWarnings.ClassesWithoutImages(result, manifest.ClassNames);
        if (missing.Count > 0)
        {
            var files = missing.ToDictionary(name => name, _ => 0, StringComparer.Ordinal);
            for (var shard = 0; shard < manifest.ImageChunkCount; shard++)
            {
                foreach (var image in await JobManifestStore.ReadImageChunkAsync(run.Store, manifest, shard, cancellationToken).ConfigureAwait(true))
                {
                    if (image.Label is { } label && files.TryGetValue(label, out var count))
                    {
                        files[label] = count + 1;
                    }
                }
            }
            warnings.Add(ResultWarnings.ClassWithoutImages(result, manifest.ClassNames.Count, [.. missing.Select(name => (name, files[name]))], requested)!);
        }
        var description = BackboneDescription.FromJson(run.Specification.BackboneDescriptionJson, "the job's backbone description");
        if (ResultWarnings.SmallPatchGrid(result, description.Preprocessing) is { } grid)
        {
            warnings.Add(grid);
        }
        return warnings;
    }

    /// <summary>
    /// Each image with its anomaly score (null: none, and then no threshold or detection figures either) and the content hash
    /// its grain recorded (rows in result order; reports key thumbnails by it), in one copy of the per-image records: one
    /// for the scores and another for the hashes were two million records more at a million images.
    /// </summary>
    private static ClusteringResult WithScoresAndContentHashes(ClusteringResult result, double[]? scores, double? threshold, string?[] hashes)
    {
        var anyHash = hashes.Any(hash => hash is not null);
        if (scores is null && !anyHash)
        {
            return result;
        }
        var images = new ClusteredImage[result.Images.Count];
        for (var row = 0; row < images.Length; row++)
        {
            var image = result.Images[row];
            images[row] = image with
            {
                AnomalyScore = scores is null ? image.AnomalyScore : scores[row],
                ContentSha256 = anyHash ? hashes[row] : image.ContentSha256,
            };
        }
        return scores is null ? result with { Images = images } : ImageDetection.WithDetection(result with { Images = images }, threshold);
    }

    /// <summary>Writes the job's result files (<see cref="JobResultFiles"/>) and returns the summary's blob.</summary>
    public static async Task<string> WriteAsync(JobRunContext run, JobResultData data, CancellationToken cancellationToken)
    {
        var specification = run.Specification;
        var description = BackboneDescription.FromJson(specification.BackboneDescriptionJson, "the job's backbone description");
        var source = new ResultSource("job", specification.Source, Layout: null, NormalFolder: null, description.Name, new Dictionary<string, int>(), description.Preprocessing);
        var clock = Stopwatch.StartNew();
        // Off the grain's turn: the Parquet and .npy writers block while they run (seconds at a million images), and the
        // coordinator must keep answering status calls meanwhile (a 1M simulation saw a 7.2 s GetStatus with them on it).
        var blob = await Task.Run(
            () => JobResultFiles.WriteAsync(run.Store, run.JobId, data.Result, source, data.Embeddings, data.ImageIndices, cancellationToken), cancellationToken)
            .ConfigureAwait(true);
        run.Logger.LogInformation("Job {JobId}: result files written in {Seconds:F1} s", run.JobId, clock.Elapsed.TotalSeconds);
        return blob;
    }

    /// <summary>
    /// Every image the job could not use: the normal images' failures (kept by the coordinator) and each shard's, in
    /// image order. Only shards that ran are asked.
    /// </summary>
    public static async Task<List<ImageFailure>> FailuresAsync(JobRunContext run)
    {
        var failures = new List<ImageFailure>(run.State.Failures);
        var state = run.State;
        for (var shard = 0; shard < run.Manifest.ImageChunkCount; shard++)
        {
            if (state.IsShardDone(shard) || run.ActiveShards.ContainsKey(shard))
            {
                failures.AddRange(await run.Grains.GetGrain<IJobShardGrain>(JobShardKey.For(run.JobId, shard)).GetFailures().ConfigureAwait(true));
            }
        }
        return failures;
    }

    private static async Task<float[][]> AlphaMapsAsync(JobRunContext run, int[] indices, CancellationToken cancellationToken)
    {
        var maps = new float[indices.Length][];
        await run.ForEachBoundedAsync(Enumerable.Range(0, indices.Length), async k =>
        {
            var bytes = await BoundedFanOut.WithRetriesAsync(
                () => run.Store.ReadAllBytesAsync(JobBlobNames.ImageOutcome(run.JobId, indices[k]), cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(true);
            maps[k] = ImageOutcomeFormat.FromBytes(bytes).Weights;
        }, cancellationToken).ConfigureAwait(true);
        return maps;
    }

    /// <summary>
    /// Semi-supervised with at least 2 usable normal images: the label-free detection threshold, a quantile of the normal
    /// images' leave-one-out scores (<see cref="DetectionThreshold"/>), each scored by its own grain. Otherwise null.
    /// </summary>
    private static async Task<double?> DetectionThresholdAsync(JobRunContext run, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var normalBlobs = run.State.NormalFeatures.Where(blob => blob is not null).Select(blob => blob!).ToArray();
        if (options.Mode != ClusteringMode.SemiSupervised || normalBlobs.Length < 2)
        {
            return null;
        }
        var scores = new double[normalBlobs.Length];
        await run.ForEachBoundedAsync(Enumerable.Range(0, normalBlobs.Length), async n =>
        {
            var request = new NormalScoreRequest(normalBlobs, n, options.CoresetFraction, options.Seed);
            var grain = run.Grains.GetGrain<IImageGrain>(ImageGrainKey.For(run.JobId, n, isNormal: true));
            scores[n] = await BoundedFanOut.WithRetriesAsync(
                () => run.ImageCalls.WatchAsync(grain.ScoreNormalLeaveOneOut(request), $"normal {n}", cancellationToken), cancellationToken).ConfigureAwait(true);
        }, cancellationToken).ConfigureAwait(true);
        return DetectionThreshold.FromNormalScores(scores);
    }
}
