using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Storage.Tests.Features;

/// <summary>The cache key: stable for equal ingredients, different when any one changes, and a well-formed blob name.</summary>
public sealed class FeatureCacheKeyTests
{
    private static readonly string Image = FeatureCacheKey.HashImage("image bytes"u8);
    private const string Backbone = "3f5a0c9e";

    [Fact]
    public void EqualIngredientsGiveEqualKeysAndTheDocumentedBlobName()
    {
        var a = FeatureCacheKey.Create(Image, Backbone, new PatchEmbeddingOptions());
        var b = FeatureCacheKey.Create(Image.ToUpperInvariant(), Backbone, layerNorm: true, 1024, 1024, 3);

        Assert.Equal(a, b);
        Assert.Equal(a.Hash, b.Hash);
        Assert.Equal("layerNorm=true;P=1024;T=1024;k=3", a.EmbeddingSettings);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(a.CanonicalText))), a.Hash);
        Assert.Matches("^features/v1/[0-9a-f]{2}/[0-9a-f]{64}\\.bag$", a.BlobName);
        Assert.Equal($"features/v1/{a.Hash[..2]}/{a.Hash}.bag", a.BlobName);
        BlobName.Validate(a.BlobName);
    }

    [Fact]
    public void ChangingAnyIngredientChangesTheKey()
    {
        var baseline = FeatureCacheKey.Create(Image, Backbone, true, 1024, 1024, 3);
        FeatureCacheKey[] variants =
        [
            FeatureCacheKey.Create(FeatureCacheKey.HashImage("image bytes!"u8), Backbone, true, 1024, 1024, 3),
            FeatureCacheKey.Create(Image, Backbone + "0", true, 1024, 1024, 3),
            FeatureCacheKey.Create(Image, Backbone, false, 1024, 1024, 3),
            FeatureCacheKey.Create(Image, Backbone, true, 2048, 1024, 3),
            FeatureCacheKey.Create(Image, Backbone, true, 1024, 4096, 3),
            FeatureCacheKey.Create(Image, Backbone, true, 1024, 1024, 5),
        ];

        var hashes = variants.Select(v => v.Hash).Append(baseline.Hash).ToList();
        Assert.Equal(hashes.Count, hashes.Distinct().Count());
        Assert.Equal(hashes.Count, variants.Select(v => v.BlobName).Append(baseline.BlobName).Distinct().Count());
    }

    [Fact]
    public async Task TheImageHashIsTheSha256OfTheFileBytes()
    {
        var bytes = new byte[100_000];
        new Random(3).NextBytes(bytes);

        var fromStream = await FeatureCacheKey.HashImageAsync(new MemoryStream(bytes), TestContext.Current.CancellationToken);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), fromStream);
        Assert.Equal(fromStream, FeatureCacheKey.HashImage(bytes));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public void AnImageHashThatIsNotSha256HexIsRejected(string imageHash)
    {
        var error = Assert.Throws<ArgumentException>(() => FeatureCacheKey.Create(imageHash, Backbone, new PatchEmbeddingOptions()));
        Assert.Contains("64 hex digits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyOrMultiLineBackboneIdentitiesAndNonPositiveSizesAreRejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => FeatureCacheKey.Create(Image, " ", new PatchEmbeddingOptions()));
        Assert.ThrowsAny<ArgumentException>(() => FeatureCacheKey.Create(Image, "a\nimage-sha256=b", new PatchEmbeddingOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureCacheKey.Create(Image, Backbone, true, 0, 1024, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureCacheKey.Create(Image, Backbone, true, 1024, -1, 3));
    }
}
