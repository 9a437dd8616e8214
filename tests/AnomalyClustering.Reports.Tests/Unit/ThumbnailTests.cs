using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Thumbnails;
using AnomalyClustering.Storage;
using SkiaSharp;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The backbone's region, thumbnail sizes, cache keys, the renderer's heat map and the two caches.</summary>
public sealed class ThumbnailTests
{
    [Fact]
    public void A_stretched_image_shows_whole_and_a_centre_crop_shows_its_window()
    {
        Assert.Equal(new PatchGridRegion(0, 0, 400, 200), PatchGridRegion.Of(400, 200, PreprocessingOptions.Default with { ResizeMode = ImageResizeMode.Stretch }));
        Assert.Equal(new PatchGridRegion(0, 0, 400, 200), PatchGridRegion.Of(400, 200, null));
        // 400 x 200 -> shorter side 256: 512 x 256; crop 224 at (144, 16); back in pixels x 400/512.
        Assert.Equal(new PatchGridRegion(112.5, 12.5, 175, 175), PatchGridRegion.Of(400, 200, PreprocessingOptions.Default));
        Assert.Equal((160, 80), new PatchGridRegion(0, 0, 400, 200).ThumbnailSize(160));
        Assert.Equal((53, 160), new PatchGridRegion(0, 0, 100, 300).ThumbnailSize(160));
    }

    [Fact]
    public void Keys_follow_the_content_and_the_alpha_map()
    {
        var hash = ThumbnailKeys.ContentHash([1, 2, 3]);
        Assert.Equal(hash, ThumbnailKeys.ContentHash([1, 2, 3]));
        Assert.NotEqual(hash, ThumbnailKeys.ContentHash([1, 2, 4]));
        var stretch = PreprocessingOptions.Default with { ResizeMode = ImageResizeMode.Stretch };
        Assert.NotEqual(ThumbnailKeys.Image(hash, 160, stretch), ThumbnailKeys.Image(hash, 160, PreprocessingOptions.Default));
        Assert.NotEqual(ThumbnailKeys.Image(hash, 160, stretch), ThumbnailKeys.Image(hash, 128, stretch));
        float[] alpha = [0.25f, 0.25f, 0.25f, 0.25f];
        float[] other = [0.7f, 0.1f, 0.1f, 0.1f];
        Assert.Equal(ThumbnailKeys.Heat(hash, 160, stretch, alpha, 2, 2), ThumbnailKeys.Heat(hash, 160, stretch, alpha, 2, 2));
        Assert.NotEqual(ThumbnailKeys.Heat(hash, 160, stretch, alpha, 2, 2), ThumbnailKeys.Heat(hash, 160, stretch, other, 2, 2));
        Assert.Equal(ThumbnailKeys.Image(hash, 160, stretch), ThumbnailKeys.Check(ThumbnailKeys.Image(hash, 160, stretch)));
        Assert.Throws<ArgumentException>(() => ThumbnailKeys.Check("../report.html"));
        Assert.Throws<ArgumentException>(() => ThumbnailKeys.Check("a/b.jpg"));
    }

    [Fact]
    public void The_heat_map_is_brightest_where_alpha_is_largest()
    {
        var png = GreyPng(300, 150);
        var renderer = new ThumbnailRenderer(160, PreprocessingOptions.Default with { ResizeMode = ImageResizeMode.Stretch });
        // All weight on patch (row 1, column 3) of a 4 x 4 grid: the right half, upper middle.
        var alpha = new float[16];
        alpha[1 * 4 + 3] = 1f;
        var rendered = renderer.Render(png, "grey.png", alpha, 4, 4);
        Assert.Equal((160, 80), (rendered.Width, rendered.Height));
        using var plain = SKBitmap.Decode(rendered.Image);
        using var heat = SKBitmap.Decode(rendered.Heat!);
        Assert.Equal((160, 80), (heat.Width, heat.Height));
        // The plain thumbnail is the flat grey; the heat map is bright at the patch's centre and dark far from it.
        Assert.InRange(plain.GetPixel(150, 30).Red, 120, 136);
        var hot = Brightness(heat.GetPixel(140, 30));
        var cold = Brightness(heat.GetPixel(10, 70));
        Assert.True(hot > cold + 100, $"heat at the weighted patch {hot}, far away {cold}");
    }

    [Fact]
    public async Task A_folder_cache_round_trips_and_links_relatively()
    {
        var folder = Path.Combine(Path.GetTempPath(), "report-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new FolderThumbnailCache(folder);
            var key = ThumbnailKeys.Image(ThumbnailKeys.ContentHash([9]), 160, null);
            var token = TestContext.Current.CancellationToken;
            Assert.Null(await cache.TryGetAsync(key, token));
            await cache.PutAsync(key, [1, 2, 3], token);
            Assert.Equal([1, 2, 3], await cache.TryGetAsync(key, token));
            Assert.True(File.Exists(Path.Combine(folder, key)));
            Assert.Equal("thumbnails/" + key, cache.LinkFor(key));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_blob_cache_round_trips_and_links_through_its_template()
    {
        var folder = Path.Combine(Path.GetTempPath(), "report-blobs-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new LocalDirectoryBlobStore(folder);
            var cache = new BlobThumbnailCache(store, "thumbnails/", "/api/thumbnails/{key}");
            var key = ThumbnailKeys.Image(ThumbnailKeys.ContentHash([7]), 160, null);
            Assert.Null(await cache.TryGetAsync(key, TestContext.Current.CancellationToken));
            await cache.PutAsync(key, [4, 5], TestContext.Current.CancellationToken);
            Assert.Equal([4, 5], await cache.TryGetAsync(key, TestContext.Current.CancellationToken));
            Assert.True(await store.ExistsAsync("thumbnails/" + key, TestContext.Current.CancellationToken));
            Assert.Equal("/api/thumbnails/" + key, cache.LinkFor(key));
            Assert.Null(new BlobThumbnailCache(store).LinkFor(key));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int Brightness(SKColor color) => color.Red + color.Green + color.Blue;

    internal static byte[] GreyPng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(128, 128, 128));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
