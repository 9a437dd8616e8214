using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Embedding.Tests.Pipeline;

public sealed class ClusteringPipelineTests : IDisposable
{
    // Small embeddings: these tests are about the sequencing, not the quality.
    private static readonly ClusteringJobOptions Small = new() { PretrainDimension = 48, TargetDimension = 32, Tau = 0.5, BatchSize = 3 };

    private readonly PipelineTestImages _images = new();
    private readonly OnnxBackbone _backbone = BuiltInBackbone.Open();

    public void Dispose()
    {
        _backbone.Dispose();
        _images.Dispose();
    }

    [Fact]
    public void RunClustersLabelledImagesAndReportsEveryStage()
    {
        var dataset = Dataset(plain: 3, discs: 3);
        var reports = new List<PipelineProgress>();

        var result = Run(Small, dataset, new SynchronousProgress(reports.Add));

        Assert.Equal(dataset.Images.Select(i => i.Id), result.Images.Select(i => i.Id));
        Assert.Equal(dataset.Images.Select(i => i.Label), result.Images.Select(i => i.Label));
        Assert.Equal(2, result.Options.ClusterCount);
        Assert.Equal(2, result.ClusterCount);
        Assert.Empty(result.Errors);
        Assert.Equal(32, result.EmbeddingDimension);
        Assert.Equal(5, result.MergeTree.LinkageMatrix.Count);

        // The metrics are Core's metrics of the partition the result holds.
        var expected = ClusteringMetrics.Evaluate(result.Images.Select(i => i.Label!).ToList(), result.Images.Select(i => i.Cluster).ToArray());
        Assert.Equal(expected.NormalizedMutualInformation, result.Scores!.NormalizedMutualInformation);
        Assert.Equal(expected.AdjustedRandIndex, result.Scores.AdjustedRandIndex);

        var patches = result.PatchGridHeight * result.PatchGridWidth;
        Assert.Equal(28 * 28, patches);
        Assert.All(result.Images, image =>
        {
            Assert.Equal(patches, image.PatchWeights!.Length);
            Assert.Equal(1.0, image.PatchWeights.Sum(w => (double)w), 1e-4);
        });

        Assert.Equal([PipelineStage.EmbedImages, PipelineStage.WeightPatches, PipelineStage.Cluster], result.Timings.Select(t => t.Stage));
        foreach (var stage in result.Timings.Select(t => t.Stage))
        {
            var last = reports.Last(r => r.Stage == stage);
            Assert.Equal(last.Total, last.Completed);
        }
        Assert.Equal(new PipelineProgress(PipelineStage.EmbedImages, 6, 6), reports.Last(r => r.Stage == PipelineStage.EmbedImages));
    }

    [Fact]
    public void UndecodableImagesBecomeErrorsAndTheOthersAreClustered()
    {
        var images = new List<DatasetImage>
        {
            new("a.png", _images.Plate("a.png", withDisc: false, seed: 1)),
            new("broken.png", _images.Write("broken.png", [1, 2, 3, 4, 5])),
            new("b.png", _images.Plate("b.png", withDisc: true, seed: 2)),
            new("empty.png", _images.Write("empty.png", [])),
            new("c.png", _images.Plate("c.png", withDisc: false, seed: 3)),
        };

        var result = Run(Small with { ClusterCount = 2 }, new ClusteringDataset(images));

        Assert.Equal(["a.png", "b.png", "c.png"], result.Images.Select(i => i.Id));
        Assert.Equal(["broken.png", "empty.png"], result.Errors.Select(e => e.Id));
        Assert.Equal(["not-an-image", "empty"], result.Errors.Select(e => e.Reason));
        Assert.All(result.Errors, e => Assert.False(e.IsNormalImage));
        Assert.Null(result.Scores);
    }

    [Fact]
    public void TooFewDecodableImagesIsAnInputError()
    {
        var images = new List<DatasetImage>
        {
            new("a.png", _images.Plate("a.png", withDisc: false, seed: 1)),
            new("broken.png", _images.Write("broken.png", [9, 9, 9])),
        };
        var error = Assert.Throws<InvalidClusteringInputException>(() => Run(Small with { ClusterCount = 1 }, new ClusteringDataset(images)));
        Assert.Contains("only 1 of 2", error.Message);
    }

    [Fact]
    public void AverageModeWeightsEveryPatchEqually()
    {
        var result = Run(Small with { Mode = ClusteringMode.Average }, Dataset(plain: 2, discs: 2));
        var uniform = 1f / (result.PatchGridHeight * result.PatchGridWidth);
        Assert.All(result.Images, image => Assert.All(image.PatchWeights!, w => Assert.Equal(uniform, w)));
    }

    [Fact]
    public void SemiSupervisedUsesTheNormalImagesAndNeedsThem()
    {
        var withoutNormals = Dataset(plain: 2, discs: 2);
        var semi = Small with { Mode = ClusteringMode.SemiSupervised };
        Assert.Contains("normal", Assert.Throws<InvalidClusteringInputException>(() => Run(semi, withoutNormals)).Message);

        var normals = new List<DatasetImage>
        {
            new("n1.png", _images.Plate("n1.png", withDisc: false, seed: 50)),
            new("n2.png", _images.Write("n2.png", [0x89, 0x50, 0x4E, 0x47])),
        };
        var result = Run(semi, new ClusteringDataset(withoutNormals.Images, normals));
        Assert.Equal([PipelineStage.EmbedNormalImages, PipelineStage.EmbedImages, PipelineStage.WeightPatches, PipelineStage.Cluster], result.Timings.Select(t => t.Stage));
        var error = Assert.Single(result.Errors);
        Assert.True(error.IsNormalImage);
        Assert.Equal("n2.png", error.Id);
    }

    [Fact]
    public void SampledReferencesAreReproducibleForASeed()
    {
        var dataset = Dataset(plain: 3, discs: 3);
        var options = Small with { ReferenceCount = 2, Seed = 11 };
        var first = Run(options, dataset);
        var second = Run(options, dataset);
        var exact = Run(Small, dataset);

        Assert.Equal(first.Images.SelectMany(i => i.PatchWeights!), second.Images.SelectMany(i => i.PatchWeights!));
        Assert.NotEqual(first.Images.SelectMany(i => i.PatchWeights!), exact.Images.SelectMany(i => i.PatchWeights!));
    }

    [Fact]
    public void NormalImageLimitDrawsASeededSubsetInTheGivenOrder()
    {
        var normals = Enumerable.Range(0, 40).Select(i => new DatasetImage($"n{i:D2}.png", $"/nowhere/n{i:D2}.png")).ToArray();
        IReadOnlyList<DatasetImage> Select(int limit, int seed) => new ClusteringPipeline(_backbone, Small with { NormalImageLimit = limit, Seed = seed }).SelectNormalImages(normals);

        var first = Select(8, 3);
        Assert.Equal(8, first.Count);
        Assert.Equal(8, first.Distinct().Count());
        Assert.All(first, image => Assert.Contains(image, normals));
        Assert.Equal(first.OrderBy(image => image.Id, StringComparer.Ordinal), first);
        Assert.Equal(first, Select(8, 3));
        Assert.NotEqual(first, Select(8, 4));
        // Not simply the first images of the folder.
        Assert.NotEqual(normals.Take(8), first);
        // 0 and limits at or above the count use every normal image.
        Assert.Equal(normals, Select(0, 3));
        Assert.Equal(normals, Select(40, 3));
        Assert.Single(Select(1, 3));
    }

    [Fact]
    public void SemiSupervisedEmbedsOnlyTheLimitedNormalImages()
    {
        var dataset = Dataset(plain: 2, discs: 2);
        var normals = Enumerable.Range(0, 5).Select(i => new DatasetImage($"n{i}.png", _images.Plate($"n{i}.png", withDisc: false, seed: 60 + i))).ToList();
        var reports = new List<PipelineProgress>();

        Run(Small with { Mode = ClusteringMode.SemiSupervised, NormalImageLimit = 2 }, new ClusteringDataset(dataset.Images, normals), new SynchronousProgress(reports.Add));

        Assert.Equal(2, reports.Where(r => r.Stage == PipelineStage.EmbedNormalImages).Max(r => r.Total));
    }

    [Fact]
    public void TooManyClustersIsRefusedBeforeAnyEmbedding()
    {
        var reports = new List<PipelineProgress>();
        var error = Assert.Throws<InvalidClusteringInputException>(() =>
            Run(Small with { ClusterCount = 9 }, Dataset(plain: 2, discs: 2), new SynchronousProgress(reports.Add)));
        Assert.Contains("9 clusters", error.Message);
        Assert.Empty(reports);
    }

    [Theory]
    [InlineData(-0.5, null, null, 0, "tau")]
    [InlineData(double.NaN, null, null, 0, "tau")]
    [InlineData(1.0, 0, null, 0, "number of clusters")]
    [InlineData(1.0, 2, 1.5, 0, "not both")]
    [InlineData(1.0, null, -1.0, 0, "threshold")]
    [InlineData(1.0, null, null, -3, "reference count")]
    [InlineData(1.0, null, null, 0, "normal image limit", -1)]
    [InlineData(1.0, null, null, 0, "coreset fraction", 64, -0.1)]
    [InlineData(1.0, null, null, 0, "coreset fraction", 64, 1.5)]
    [InlineData(1.0, null, null, 0, "coreset fraction", 64, double.NaN)]
    [InlineData(1.0, null, null, 0, "coreset fraction", 64, double.PositiveInfinity)]
    public void InvalidOptionsAreRefused(double tau, int? clusters, double? threshold, int refs, string fragment, int normalLimit = 64, double coreset = 0)
    {
        var options = new ClusteringJobOptions
        {
            Tau = tau, ClusterCount = clusters, DistanceThreshold = threshold, ReferenceCount = refs, NormalImageLimit = normalLimit, CoresetFraction = coreset,
        };
        var error = Assert.Throws<InvalidClusteringInputException>(() => new ClusteringPipeline(_backbone, options));
        Assert.Contains(fragment, error.Message);
    }

    private ClusteringResult Run(ClusteringJobOptions options, ClusteringDataset dataset, IProgress<PipelineProgress>? progress = null) =>
        new ClusteringPipeline(_backbone, options).Run(dataset, progress, TestContext.Current.CancellationToken);

    private ClusteringDataset Dataset(int plain, int discs)
    {
        var images = new List<DatasetImage>();
        for (var i = 0; i < plain; i++)
        {
            images.Add(new DatasetImage($"plain_{i}.png", _images.Plate($"plain_{i}.png", withDisc: false, seed: 100 + i), "good"));
        }
        for (var i = 0; i < discs; i++)
        {
            images.Add(new DatasetImage($"disc_{i}.png", _images.Plate($"disc_{i}.png", withDisc: true, seed: 200 + i), "disc"));
        }
        return new ClusteringDataset(images);
    }

    /// <summary>Progress that records on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }
}
