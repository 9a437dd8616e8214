using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A job's result in the store: written as a folder plus pages, read back whole, and read by page and by id at sizes that
/// span several pages per cluster and several id buckets.
/// </summary>
public sealed class JobResultFilesTests
{
    private const int Dimension = 3;

    [Fact]
    public async Task PagesAndBucketsGiveEveryImageOnceAndAgreeWithTheFiles()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-result-files"));
        // 3,200 images in 2 clusters of about 1,067 and 2,133: 2 and 3 pages, and the ids fall into 4 buckets. Past
        // EmbeddingsKeptUpTo the images would carry no x_i; here the matrix is passed separately as the coordinator does.
        var (result, matrix) = TwoBlobs(3200, errors: 1500);
        var indices = Enumerable.Range(0, result.Images.Count).Select(row => 10 * row).ToArray();
        var imagesOnly = result with { Images = result.Images.Select(image => image with { Embedding = null }).ToArray() };

        var summaryBlob = await JobResultFiles.WriteAsync(store, "big", imagesOnly, Source, matrix, indices, cancellation);

        Assert.Equal(JobBlobNames.Result("big"), summaryBlob);
        var summary = await JobResultFiles.ReadSummaryAsync(store, summaryBlob, cancellation);
        Assert.Equal((3200, 2, 1500), (summary.ImageCount, summary.ClusterCount, summary.ErrorCount));
        var index = await JobResultFiles.ReadIndexAsync(store, "big", cancellation);
        Assert.Equal(4, index.IdBucketCount);
        Assert.Equal(summary.Clusters.Select(c => c.Size), index.ClusterSizes);

        // Whole: the files hold the matrix's rows as each image's x_i.
        var (read, _) = await JobResultFiles.ReadAsync(store, summaryBlob, cancellation);
        Assert.Equal(result.Images.Select(i => (i.Id, i.Cluster)), read.Images.Select(i => (i.Id, i.Cluster)));
        Assert.Equal(matrix, read.Images.SelectMany(i => i.Embedding!));
        Assert.Equal(result.Errors, read.Errors);
        var centres = ClusterCentres.Of(read);

        for (var cluster = 0; cluster < 2; cluster++)
        {
            // Pages of 700 cross the 1,000-row page boundaries; together they are the cluster, nearest first.
            var paged = new List<ResultImageEntry>();
            for (var offset = 0; offset < index.ClusterSizes[cluster]; offset += 700)
            {
                paged.AddRange(await JobResultFiles.ReadClusterImagesAsync(store, "big", index, cluster, offset, 700, cancellation));
            }
            var members = Enumerable.Range(0, read.Images.Count).Where(row => read.Images[row].Cluster == cluster).ToArray();
            Assert.Equal(members.Order(), paged.Select(entry => entry.Row).Order());
            Assert.Equal(members.Select(row => centres.Distances[row]).Order(), paged.Select(entry => entry.DistanceToCentre!.Value));
            Assert.Equal(summary.Clusters[cluster].CentreImage, paged[0].Id);
            Assert.All(paged, entry => Assert.Equal(10 * entry.Row, entry.ImageIndex));
            Assert.Empty(await JobResultFiles.ReadClusterImagesAsync(store, "big", index, cluster, index.ClusterSizes[cluster], 10, cancellation));
        }

        foreach (var row in new[] { 0, 999, 1000, 3199 })
        {
            var found = await JobResultFiles.FindImageAsync(store, "big", index, result.Images[row].Id, cancellation);
            Assert.Equal((row, result.Images[row].Cluster), (found!.Row, found.Cluster));
        }
        Assert.Null(await JobResultFiles.FindImageAsync(store, "big", index, "no/such.png", cancellation));

        var errors = await JobResultFiles.ReadErrorsAsync(store, "big", index, 990, 20, cancellation);
        Assert.Equal(result.Errors.Skip(990).Take(20), errors);
    }

    [Fact]
    public async Task RenamingRewritesOnlyTheNamesOfTheSummary()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-result-names"));
        var (result, matrix) = TwoBlobs(40, errors: 0);
        var blob = await JobResultFiles.WriteAsync(store, "named", result, Source, matrix, null, cancellation);
        var before = await JobResultFiles.ReadSummaryAsync(store, blob, cancellation);

        await JobResultFiles.WriteNamesAsync(store, blob, before.Names.With(1, "crack"), cancellation);

        var after = await JobResultFiles.ReadSummaryAsync(store, blob, cancellation);
        Assert.Equal("crack", after.Names.NameOf(1));
        Assert.Equal("crack", after.Clusters[1].Name);
        Assert.Null(after.Clusters[0].Name);
        Assert.Equal((before.ImageCount, before.ClusterCount, before.Metrics, before.SourcePath), (after.ImageCount, after.ClusterCount, after.Metrics, after.SourcePath));
        Assert.Equal(before.Clusters.Select(c => (c.Cluster, c.Size, c.CentreImage)), after.Clusters.Select(c => (c.Cluster, c.Size, c.CentreImage)));
        var (read, _) = await JobResultFiles.ReadAsync(store, blob, cancellation);
        Assert.Equal("crack", read.Names.NameOf(1));
    }

    private static readonly ResultSource Source = new("job", "datasets/x/", null, null, "built-in", new Dictionary<string, int>());

    /// <summary>Two well-separated blobs (every third image in the second), clustered for real into K = 2.</summary>
    private static (ClusteringResult Result, float[] Matrix) TwoBlobs(int count, int errors)
    {
        var random = new Random(7);
        var matrix = new float[count * Dimension];
        for (var i = 0; i < count; i++)
        {
            var centre = i % 3 == 0 ? 10f : 0f;
            for (var d = 0; d < Dimension; d++)
            {
                matrix[(i * Dimension) + d] = centre + (float)random.NextDouble();
            }
        }
        var ids = Enumerable.Range(0, count).Select(i => $"line/{i:D5}.png").ToArray();
        var clustered = EmbeddingClustering.Run(matrix, count, Dimension, ids, null, new ClusteringJobOptions { ClusterCount = 2 });
        return (clustered with
        {
            Errors = Enumerable.Range(0, errors).Select(e => new ImageError($"bad/{e}.png", $"datasets/x/bad/{e}.png", "not-an-image", "not an image")).ToArray(),
        }, matrix);
    }
}
