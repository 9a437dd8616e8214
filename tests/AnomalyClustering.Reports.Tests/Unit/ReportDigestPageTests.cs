using System.Text;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>
/// A report rendered from result.json and report-digest.json alone is the page the whole result gives (past the list
/// limit, where the page lists only the shown images), and the digest's size does not grow with N.
/// </summary>
public sealed class ReportDigestPageTests
{
    private static readonly ResultSource Source = new("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheDigestsPageIsTheWholeResultsPage(bool withThreshold)
    {
        using var folder = new TempDirectory();
        var written = Labelled(Blobs(900, clusters: 3, seed: 4), withThreshold);
        ResultFolder.Write(folder.Path, written, Source);
        // As a large job's report reads it: without embeddings.npy (the galleries then follow the recorded distances).
        File.Delete(Path.Combine(folder.Path, ResultFolder.EmbeddingsFileName));
        var options = new ReportOptions { MaxImagesPerCluster = 40, FullImageListUpTo = 100, MaxErrorRows = 5, MaxDendrogramLeaves = 30 };

        var (whole, _) = ResultFolder.Read(folder.Path);
        var wholePage = await RenderAsync(new ClusterReportInput(whole, Source, new NoImages(), new NoThumbnails()) { Options = options });

        ReportDigest digest;
        await using (var stream = File.OpenRead(Path.Combine(folder.Path, ReportDigest.FileName)))
        {
            digest = ReportDigest.Read(stream);
        }
        ClusteringResult fromDigest;
        await using (var summary = File.OpenRead(Path.Combine(folder.Path, ResultFolder.SummaryFileName)))
        {
            (fromDigest, _) = ResultFolder.ReadForReport(summary, digest);
        }
        var digestPage = await RenderAsync(new ClusterReportInput(fromDigest, Source, new NoImages(), new NoThumbnails()) { Options = options, Digest = digest });

        // The page shows what the assertions below look for (so that equality is not of two empty pages).
        Assert.Contains("id=\"score-histogram\"", wholePage, StringComparison.Ordinal);
        Assert.Contains("id=\"dendrogram\"", wholePage, StringComparison.Ordinal);
        Assert.Contains("Only the last 29 merges are drawn", wholePage, StringComparison.Ordinal);
        Assert.Contains("id=\"confusion\"", wholePage, StringComparison.Ordinal);
        Assert.Contains("and 2 more; errors.parquet lists all 7.", wholePage, StringComparison.Ordinal);
        Assert.Equal(withThreshold, wholePage.Contains("score above it", StringComparison.Ordinal));
        Assert.Equal(wholePage, digestPage);
        // The digest keeps only what the galleries can show: K x 2 x 240 rows at most, of 900.
        Assert.True(digest.Rows.Count <= 3 * 2 * ReportDigest.DefaultRowsPerList, $"{digest.Rows.Count} rows");
        Assert.Equal(900, digest.ImageCount);
    }

    [Fact]
    public void TheDigestDoesNotGrowWithTheNumberOfImages()
    {
        static long DigestBytes(int count)
        {
            var result = Labelled(Blobs(count, clusters: 2, seed: 8), withThreshold: true);
            using var stream = new MemoryStream();
            ReportDigest.Of(result, ClusterCentres.Of(result).Distances).Write(stream);
            return stream.Length;
        }

        var small = DigestBytes(4_000);
        var large = DigestBytes(8_000);

        // The same rows per cluster, histogram bins, errors and tree top: within a few percent (number widths vary).
        Assert.InRange(large, small * 0.9, small * 1.1);
    }

    private static async Task<string> RenderAsync(ClusterReportInput input)
    {
        using var page = new MemoryStream();
        await ClusterReport.WriteAsync(input, page, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(page.ToArray());
    }

    private static ClusteringResult Blobs(int count, int clusters, int seed)
    {
        var random = new Random(seed);
        var points = Enumerable.Range(0, count * 2).Select(i => (float)(random.NextDouble() + (i / 2 % clusters * 10))).ToArray();
        var ids = Enumerable.Range(0, count).Select(i => $"img{i:D5}.png").ToArray();
        return EmbeddingClustering.Run(points, count, 2, ids, null, new ClusteringJobOptions { ClusterCount = clusters });
    }

    // Labels (good and two defects, mixed across clusters), anomaly scores, a few errors and optionally a threshold.
    private static ClusteringResult Labelled(ClusteringResult result, bool withThreshold)
    {
        var random = new Random(3);
        string[] labels = ["good", "crack", "hole"];
        var images = result.Images.Select((image, i) => image with
        {
            Label = labels[(image.Cluster + (i % 7 == 0 ? 1 : 0)) % labels.Length],
            AnomalyScore = Math.Round(random.NextDouble() + image.Cluster, 6),
        }).ToArray();
        var errors = Enumerable.Range(0, 7).Select(i => new ImageError($"bad{i}.png", $"/data/bad{i}.png", "decode", "not an image")).ToArray();
        return result with
        {
            Images = images,
            Errors = errors,
            ClassNames = ["crack", "good", "hole"],
            AnomalyThreshold = withThreshold ? 1.5 : null,
        };
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("report-digest-tests-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
