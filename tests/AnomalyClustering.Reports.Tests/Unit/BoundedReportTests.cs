using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Images;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>
/// A report's size and the images it reads are bounded by K x MaxImagesPerCluster, not N: the galleries show the most
/// typical images, only those are read, and past FullImageListUpTo the page lists only them and re-cuts only the tree top.
/// </summary>
public sealed partial class BoundedReportTests
{
    private const int Count = 600;

    [Fact]
    public async Task PastTheLimitsOnlyTheShownImagesAreReadAndListed()
    {
        var result = TwoBlobs();
        var images = new CountingImages();
        var options = new ReportOptions { MaxImagesPerCluster = 50, FullImageListUpTo = 100 };

        var (html, data) = await RenderAsync(result, images, options);

        // Two clusters, 50 shown each: 100 images read, listed and linked from the galleries, most typical first.
        Assert.Equal(100, images.Read.Count);
        var listed = data.GetProperty("images").EnumerateArray().Select(image => image.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(images.Read.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        var centres = ClusterCentres.Of(result);
        foreach (var cluster in data.GetProperty("clusters").EnumerateArray())
        {
            var index = cluster.GetProperty("index").GetInt32();
            var shown = cluster.GetProperty("members").EnumerateArray().Select(position => listed[position.GetInt32()]).ToArray();
            Assert.Equal(50, shown.Length);
            var nearest = Enumerable.Range(0, Count).Where(i => result.Images[i].Cluster == index)
                .OrderBy(i => centres.Distances[i]).Take(50).Select(i => result.Images[i].Id);
            // The medoid heads the gallery; the rest are the nearest to the centroid (the medoid is among them here).
            Assert.Equal(nearest.Order(StringComparer.Ordinal), shown.Order(StringComparer.Ordinal));
        }
        Assert.False(data.TryGetProperty("linkage", out _));
        Assert.Contains("id=\"gallery-limit\"", html, StringComparison.Ordinal);
        // The re-cut works on the tree top: its own linkage over the subtrees it joins, with their image counts.
        Assert.Contains("id=\"recut-top\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"recut-k\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"recut-download\"", html, StringComparison.Ordinal);
        var top = data.GetProperty("treeTop");
        var branches = top.GetProperty("branches").EnumerateArray().ToArray();
        Assert.Equal(ReportDigest.DefaultTreeLeaves + 1, branches.Length);
        Assert.Equal(branches.Length - 1, top.GetProperty("linkage").GetArrayLength());
        Assert.Equal(Count, branches.Sum(branch => branch.GetProperty("size").GetInt32()));
        Assert.Contains("(50 shown)", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithinTheListLimitEveryImageIsListedForTheRecutButOnlyTheShownAreRead()
    {
        var result = TwoBlobs();
        var images = new CountingImages();

        var (html, data) = await RenderAsync(result, images, new ReportOptions { MaxImagesPerCluster = 50 });

        Assert.Equal(100, images.Read.Count);
        Assert.Equal(Count, data.GetProperty("images").GetArrayLength());
        Assert.Equal(Count - 1, data.GetProperty("linkage").GetArrayLength());
        Assert.Contains("id=\"recut-k\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResultWithoutAlphaMapsGetsThePicturedImagesHeatMapsFromTheImageSource()
    {
        // A large job's result keeps no alpha file: the served report reads the pictured images' maps from their outcomes.
        var result = TwoBlobs() with { PatchGridHeight = 2, PatchGridWidth = 2 };
        var images = new ImagesWithAlphaMaps();

        var (_, data) = await RenderAsync(result, images, new ReportOptions { MaxImagesPerCluster = 5 });

        var listed = data.GetProperty("images").EnumerateArray().ToArray();
        var shown = data.GetProperty("clusters").EnumerateArray().SelectMany(c => c.GetProperty("members").EnumerateArray().Select(p => listed[p.GetInt32()])).ToArray();
        Assert.Equal(10, shown.Length);
        Assert.All(shown, image => Assert.StartsWith("data:image/jpeg", image.GetProperty("heat").GetString(), StringComparison.Ordinal));
        Assert.Equal(shown.Select(image => image.GetProperty("id").GetString()!).Order(StringComparer.Ordinal), images.AlphaAsked.Order(StringComparer.Ordinal));
    }

    private static async Task<(string Html, JsonElement Data)> RenderAsync(ClusteringResult result, IReportImageSource images, ReportOptions options)
    {
        var source = new ResultSource("vectors", "/data/points.npy", null, null, null, new Dictionary<string, int>());
        using var page = new MemoryStream();
        await ClusterReport.WriteAsync(new ClusterReportInput(result, source, images, new NoThumbnails()) { Options = options }, page, TestContext.Current.CancellationToken);
        var html = System.Text.Encoding.UTF8.GetString(page.ToArray());
        var json = DataBlock().Match(html).Groups[1].Value;
        return (html, JsonDocument.Parse(json).RootElement.Clone());
    }

    private static ClusteringResult TwoBlobs()
    {
        var random = new Random(5);
        var points = Enumerable.Range(0, Count * 2).Select(i => (float)(random.NextDouble() + (i / 2 % 2 * 10))).ToArray();
        var ids = Enumerable.Range(0, Count).Select(i => $"img{i:D4}.png").ToArray();
        return EmbeddingClustering.Run(points, Count, 2, ids, null, new ClusteringJobOptions { ClusterCount = 2 });
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"report-data\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex DataBlock();

    /// <summary>Records which images the report read; has none (the page shows placeholders).</summary>
    private sealed class CountingImages : IReportImageSource
    {
        public ConcurrentBag<string> Read { get; } = [];

        public Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default)
        {
            Read.Add(imageId);
            return Task.FromResult<byte[]?>(null);
        }
    }

    /// <summary>Every image a small grey PNG with a 2 x 2 alpha map; records whose maps were asked for.</summary>
    private sealed class ImagesWithAlphaMaps : IReportImageSource
    {
        private static readonly byte[] Png = ThumbnailTests.GreyPng(16, 16);

        public ConcurrentBag<string> AlphaAsked { get; } = [];

        public Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(Png);

        public Task<float[]?> ReadAlphaMapAsync(string imageId, CancellationToken cancellationToken = default)
        {
            AlphaAsked.Add(imageId);
            return Task.FromResult<float[]?>([0.7f, 0.1f, 0.1f, 0.1f]);
        }
    }
}
