using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Testing;

/// <summary>
/// The reference implementation tests prove equality against (the grains are the product's only orchestration):
/// one clustering job in one process (METHOD sections 1-5): decode and embed the images in backbone
/// batches, score and weight their patches, form the image embeddings x_i, cluster them
/// agglomeratively, cut the tree and score the clusters against the labels when there are any.
/// Images that cannot be decoded become per-image errors and the job goes on without them.
/// Every step is a call into Core or the imaging / backbone types; this class only sequences them.
/// </summary>
/// <remarks>
/// Cost: embedding O(N) backbone runs; unsupervised exact scores O(N^2 M^2 T), sampled O(N R M^2 T),
/// semi-supervised O(N N_normal M^2 T); clustering O(N^2 T + N^2) time and O(N^2) memory.
/// Memory: the N bags of M x T floats are held until the image embeddings are formed.
/// </remarks>
internal sealed class ClusteringPipeline
{
    private readonly OnnxBackbone _backbone;

    /// <summary>Creates a pipeline that embeds with <paramref name="backbone"/> (not disposed here) under <paramref name="options"/>.</summary>
    /// <exception cref="InvalidClusteringInputException">An option is out of range.</exception>
    public ClusteringPipeline(OnnxBackbone backbone, ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _backbone = backbone;
        Options = options;
    }

    /// <summary>The options every run uses.</summary>
    public ClusteringJobOptions Options { get; }

    /// <summary>Runs the whole job on <paramref name="dataset"/>, reporting progress per stage.</summary>
    /// <exception cref="InvalidClusteringInputException">
    /// Too few usable images, K larger than the number of usable images, or semi-supervised mode without usable normal images.
    /// </exception>
    public ClusteringResult Run(ClusteringDataset dataset, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        JobPlan.CheckDataset(Options, dataset);

        var timings = new List<StageTiming>();
        var errors = new List<ImageError>();
        var clock = Stopwatch.StartNew();
        var embedder = new PatchEmbedder(Options.PatchEmbedding);

        NormalBank? normalBank = null;
        double? threshold = null;
        if (Options.Mode == ClusteringMode.SemiSupervised)
        {
            var normals = EmbedAll(SelectNormalImages(dataset.NormalImages), embedder, PipelineStage.EmbedNormalImages, errors, isNormal: true, progress, cancellationToken);
            var usable = normals.Where(bag => bag is not null).Select(bag => bag!).ToList();
            if (usable.Count == 0)
            {
                throw new InvalidClusteringInputException($"none of the {dataset.NormalImages.Count} normal images could be decoded; semi-supervised mode needs at least one.", nameof(dataset));
            }
            if (Options.CoresetFraction > 0)
            {
                var coreset = JobPlan.SelectNormalCoreset(usable, Options.CoresetFraction, Options.Seed, Options.MaxDegreeOfParallelism);
                normalBank = coreset.ToBank();
                if (usable.Count >= 2)
                {
                    threshold = DetectionThreshold.FromNormalScores(Enumerable.Range(0, usable.Count)
                        .Select(n => DetectionThreshold.LeaveOneOutScore(coreset, usable[n], n, Options.MaxDegreeOfParallelism)).ToArray());
                }
            }
            else
            {
                normalBank = NormalBank.FromBags(usable);
                if (usable.Count >= 2)
                {
                    threshold = DetectionThreshold.FromNormalScores(DetectionThreshold.LeaveOneOutNormalScores(usable, Options.MaxDegreeOfParallelism));
                }
            }
            timings.Add(Lap(PipelineStage.EmbedNormalImages, clock));
        }

        var embedded = EmbedAll(dataset.Images, embedder, PipelineStage.EmbedImages, errors, isNormal: false, progress, cancellationToken);
        timings.Add(Lap(PipelineStage.EmbedImages, clock));
        var kept = Enumerable.Range(0, dataset.Images.Count).Where(i => embedded[i] is not null).ToArray();
        if (kept.Length < 2)
        {
            throw new InvalidClusteringInputException(
                $"only {kept.Length} of {dataset.Images.Count} images could be decoded; clustering needs at least 2 ({errors.FirstOrDefault()?.Message}).", nameof(dataset));
        }
        var bags = kept.Select(i => embedded[i]!).ToArray();
        var images = kept.Select(i => dataset.Images[i]).ToArray();
        CheckClusterCount(images.Length, dataset.HasLabels ? images.Select(image => image.Label).Distinct().Count() : null);

        var (weights, anomalyScores) = WeightPatches(bags, normalBank, progress, cancellationToken);
        var dimension = bags[0].Dimension;
        var embeddings = new float[bags.Length * dimension];
        for (var i = 0; i < bags.Length; i++)
        {
            BagEmbedding.Compute(bags[i], weights[i], embeddings.AsSpan(i * dimension, dimension));
        }
        timings.Add(Lap(PipelineStage.WeightPatches, clock));

        var ids = images.Select(image => image.Id).ToArray();
        var labels = dataset.HasLabels ? images.Select(image => image.Label!).ToArray() : null;
        var clustered = EmbeddingClustering.Run(embeddings, images.Length, dimension, ids, labels, Options, weights, progress);
        timings.Add(Lap(PipelineStage.Cluster, clock));
        return ImageDetection.WithAnomalyScores(clustered, anomalyScores, threshold) with
        {
            Errors = errors,
            PatchGridHeight = bags[0].GridHeight,
            PatchGridWidth = bags[0].GridWidth,
            Timings = timings,
        };
    }

    /// <summary>The normal images semi-supervised scores use (see <see cref="JobPlan.SelectNormalImageIndices"/>), in the given order.</summary>
    internal IReadOnlyList<DatasetImage> SelectNormalImages(IReadOnlyList<DatasetImage> normalImages) =>
        JobPlan.SelectNormalImages(normalImages, Options);

    private void CheckClusterCount(int imageCount, int? classCount) => EmbeddingClustering.CheckClusterCount(Options, imageCount, classCount);

    /// <summary>Decodes and embeds images batch by batch; an image that fails to decode leaves a null and an error.</summary>
    private PatchBag?[] EmbedAll(
        IReadOnlyList<DatasetImage> images, PatchEmbedder embedder, PipelineStage stage, List<ImageError> errors, bool isNormal,
        IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var preprocessing = _backbone.Description.Preprocessing;
        var loader = new ImageLoader(preprocessing, new ImageDecodeOptions { MaxDimension = Options.MaxImageDimension });
        var tensorLength = loader.TensorLength;
        var batchSize = Math.Min(Options.BatchSize, images.Count);
        var batch = new float[batchSize * tensorLength];
        var batchMembers = new int[batchSize];
        var bags = new PatchBag?[images.Count];
        BackboneOutput? reuse = null;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };

        progress?.Report(new PipelineProgress(stage, 0, images.Count));
        for (var start = 0; start < images.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var filled = 0;
            for (var i = start; i < Math.Min(start + batchSize, images.Count); i++)
            {
                try
                {
                    loader.Load(images[i].Path, batch.AsSpan(filled * tensorLength, tensorLength));
                    batchMembers[filled++] = i;
                }
                catch (ImageDecodeException e)
                {
                    errors.Add(new ImageError(images[i].Id, images[i].Path, e.ReasonCode, e.Detail, isNormal));
                }
            }
            if (filled > 0)
            {
                var output = _backbone.Run(batch.AsSpan(0, filled * tensorLength), filled, preprocessing.CropHeight, preprocessing.CropWidth, filled == batchSize ? reuse : null);
                if (filled == batchSize)
                {
                    reuse = output;
                }
                Parallel.For(0, filled, parallel, b => bags[batchMembers[b]] = embedder.Embed(output.FeatureMaps(b)));
            }
            progress?.Report(new PipelineProgress(stage, Math.Min(start + batchSize, images.Count), images.Count));
        }
        return bags;
    }

    /// <summary>Patch weights alpha of every image for the configured mode, and the image anomaly scores (null in the average mode).</summary>
    private (float[][] Weights, double[]? AnomalyScores) WeightPatches(PatchBag[] bags, NormalBank? normalBank, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var count = bags.Length;
        var weights = new float[count][];
        if (Options.Mode == ClusteringMode.Average)
        {
            for (var i = 0; i < count; i++)
            {
                weights[i] = PatchWeights.Uniform(bags[i].PatchCount);
            }
            progress?.Report(new PipelineProgress(PipelineStage.WeightPatches, count, count));
            return (weights, null);
        }

        double[][] scores;
        var threads = Options.MaxDegreeOfParallelism;
        if (Options.Mode == ClusteringMode.SemiSupervised)
        {
            // In chunks: the batch call reuses its packed buffers, the chunks give progress and cancellation points.
            scores = new double[count][];
            var chunk = Math.Max(1, Options.BatchSize);
            for (var start = 0; start < count; start += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new PipelineProgress(PipelineStage.WeightPatches, start, count));
                var part = SemiSupervisedPatchScores.Compute(new ArraySegment<PatchBag>(bags, start, Math.Min(chunk, count - start)), normalBank!, threads);
                part.CopyTo(scores, start);
            }
        }
        else if (!JobPlan.UsesReferenceSample(Options, count))
        {
            // The exact path shares each pair's distances both ways (half the work), so it runs as one call.
            progress?.Report(new PipelineProgress(PipelineStage.WeightPatches, 0, 0));
            scores = UnsupervisedPatchScores.Exact(bags, threads);
        }
        else
        {
            var sample = ReferenceSample.Draw(count, Options.ReferenceCount, unchecked((ulong)Options.Seed));
            scores = new double[count][];
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new PipelineProgress(PipelineStage.WeightPatches, i, count));
                scores[i] = new double[bags[i].PatchCount];
                UnsupervisedPatchScores.ForImage(bags[i], sample.ReferencesFor(i).Select(j => bags[j]).ToArray(), scores[i], threads);
            }
        }
        var anomalyScores = new double[count];
        for (var i = 0; i < count; i++)
        {
            weights[i] = PatchWeights.Softmax(scores[i], Options.Tau);
            anomalyScores[i] = ImageAnomalyScore.FromPatchScores(scores[i]);
        }
        progress?.Report(new PipelineProgress(PipelineStage.WeightPatches, count, count));
        return (weights, anomalyScores);
    }

    private static StageTiming Lap(PipelineStage stage, Stopwatch clock)
    {
        var timing = new StageTiming(stage, clock.Elapsed);
        clock.Restart();
        return timing;
    }
}
