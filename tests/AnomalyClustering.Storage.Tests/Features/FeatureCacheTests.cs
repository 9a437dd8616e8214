using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Storage.Tests.Features;

/// <summary>The cache over a real local store: hits, misses, and corrupt or truncated entries that count as misses.</summary>
public sealed class FeatureCacheTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("feature-cache-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(root, recursive: true);

    private static FeatureCacheKey Key(string image) =>
        FeatureCacheKey.Create(FeatureCacheKey.HashImage(System.Text.Encoding.UTF8.GetBytes(image)), "backbone-identity", new PatchEmbeddingOptions());

    private static PatchBag Bag(int seed)
    {
        var random = new Random(seed);
        var data = new float[4 * 5 * 6];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.NextDouble();
        }
        return new PatchBag(data, 4, 5, 6);
    }

    [Fact]
    public async Task APutBagIsAHitWithEqualValuesAndAnUnknownKeyIsAMiss()
    {
        var store = new LocalDirectoryBlobStore(root);
        var cache = new FeatureCache(store);
        var bag = Bag(1);

        Assert.Null(await cache.TryGetAsync(Key("a.png"), Token));
        await cache.PutAsync(Key("a.png"), bag, Token);
        var hit = await cache.TryGetAsync(Key("a.png"), Token);
        Assert.Null(await cache.TryGetAsync(Key("b.png"), Token));

        Assert.NotNull(hit);
        Assert.Equal((4, 5, 6), (hit.GridHeight, hit.GridWidth, hit.Dimension));
        Assert.Equal(bag.Data, hit.Data);
        Assert.Equal((1L, 2L, 1L, 0L), (cache.Hits, cache.Misses, cache.Writes, cache.CorruptEntries));
        Assert.True(await store.ExistsAsync(Key("a.png").BlobName, Token));
    }

    [Fact]
    public async Task ASecondCacheOverTheSameStoreSeesTheEntries()
    {
        await new FeatureCache(new LocalDirectoryBlobStore(root)).PutAsync(Key("a.png"), Bag(2), Token);

        var second = new FeatureCache(new LocalDirectoryBlobStore(root));

        Assert.Equal(Bag(2).Data, (await second.TryGetAsync(Key("a.png"), Token))!.Data);
        Assert.Equal(1, second.Hits);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("truncated")]
    [InlineData("not a bag")]
    public async Task ABadEntryIsAReportedMissAndAPutRepairsIt(string damage)
    {
        var store = new LocalDirectoryBlobStore(root);
        var cache = new FeatureCache(store);
        var key = Key("a.png");
        var bytes = PatchBagFormat.ToBytes(Bag(3));
        byte[] damaged = damage switch
        {
            "corrupt" => [.. bytes[..50], (byte)(bytes[50] ^ 1), .. bytes[51..]],
            "truncated" => bytes[..(bytes.Length / 2)],
            _ => "\x89PNG\r\n"u8.ToArray(),
        };
        await store.PutAsync(key.BlobName, new MemoryStream(damaged), cancellationToken: Token);
        var reports = new List<FeatureCacheCorruptEntry>();
        cache.CorruptEntryFound += (_, report) => reports.Add(report);

        Assert.Null(await cache.TryGetAsync(key, Token));

        var report = Assert.Single(reports);
        Assert.Equal(key, report.Key);
        Assert.Equal(key.BlobName, report.BlobName);
        Assert.IsType<FeatureCacheFormatException>(report.Error);
        Assert.Equal((0L, 1L, 1L), (cache.Hits, cache.Misses, cache.CorruptEntries));

        await cache.PutAsync(key, Bag(3), Token);
        Assert.Equal(Bag(3).Data, (await cache.TryGetAsync(key, Token))!.Data);
        Assert.Equal(1, cache.Hits);
    }
}
