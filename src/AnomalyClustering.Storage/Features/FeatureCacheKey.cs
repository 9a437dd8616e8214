using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Storage;

/// <summary>
/// What determines an image's patch embeddings, and so names its feature-cache entry: the SHA-256 of the
/// image file's bytes, the backbone identity (model bytes, feature outputs and preprocessing, as
/// <c>BackboneDescription.ComputeIdentity()</c> gives it) and the embedding settings (LayerNorm, P, T, k).
/// A change in any of them gives another <see cref="Hash"/>, so a stale entry is never read; equal inputs
/// on any machine give the same key, so a second job over the same images skips embedding.
/// </summary>
public sealed record FeatureCacheKey
{
    /// <summary>The version of the key scheme, part of every blob name: a new scheme never reads old entries.</summary>
    public const int SchemeVersion = 1;

    /// <summary>Folder of all feature-cache blobs of this scheme version.</summary>
    public static readonly string BlobPrefix = $"features/v{SchemeVersion}/";

    private FeatureCacheKey(string imageSha256, string backboneIdentity, string embeddingSettings)
    {
        ImageSha256 = imageSha256;
        BackboneIdentity = backboneIdentity;
        EmbeddingSettings = embeddingSettings;
        CanonicalText = $"anomaly-clustering feature cache v{SchemeVersion}\nimage-sha256={imageSha256}\nbackbone={backboneIdentity}\nembedding={embeddingSettings}\n";
        Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalText)));
    }

    /// <summary>SHA-256 of the image file's bytes, 64 lowercase hex digits.</summary>
    public string ImageSha256 { get; }

    /// <summary>The backbone identity string.</summary>
    public string BackboneIdentity { get; }

    /// <summary>The canonical text of the embedding settings (<see cref="EmbeddingSettingsText"/>).</summary>
    public string EmbeddingSettings { get; }

    /// <summary>The text that is hashed: one <c>name=value</c> line per ingredient after a scheme line.</summary>
    public string CanonicalText { get; }

    /// <summary>SHA-256 of <see cref="CanonicalText"/>, 64 lowercase hex digits.</summary>
    public string Hash { get; }

    /// <summary>The entry's blob: <c>features/v1/&lt;first two hex digits&gt;/&lt;hash&gt;.bag</c> (the fan-out keeps folders small).</summary>
    public string BlobName => $"{BlobPrefix}{Hash[..2]}/{Hash}.bag";

    /// <summary>The key for an image hash, a backbone identity and the embedding options in use.</summary>
    /// <exception cref="ArgumentException">The image hash is not 64 hex digits, the identity is empty or has control characters, or an option is below 1.</exception>
    public static FeatureCacheKey Create(string imageSha256, string backboneIdentity, PatchEmbeddingOptions embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        return Create(imageSha256, backboneIdentity, embedding.LayerNorm, embedding.PretrainDimension,
            embedding.TargetDimension, embedding.NeighbourhoodSize);
    }

    /// <summary>The key from the raw settings: LayerNorm on or off, P, T and the neighbourhood size k.</summary>
    /// <exception cref="ArgumentException">As <see cref="Create(string, string, PatchEmbeddingOptions)"/>.</exception>
    public static FeatureCacheKey Create(string imageSha256, string backboneIdentity, bool layerNorm, int pretrainDimension,
        int targetDimension, int neighbourhoodSize)
    {
        ArgumentNullException.ThrowIfNull(imageSha256);
        if (imageSha256.Length != 64 || !imageSha256.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException(
                $"Image hash '{imageSha256}' is not a SHA-256: it must be 64 hex digits (FeatureCacheKey.HashImage gives one).", nameof(imageSha256));
        }
        ArgumentException.ThrowIfNullOrWhiteSpace(backboneIdentity);
        if (backboneIdentity.Any(char.IsControl))
        {
            throw new ArgumentException("Backbone identity contains control characters; pass BackboneDescription.ComputeIdentity()'s value.", nameof(backboneIdentity));
        }
        return new FeatureCacheKey(imageSha256.ToLowerInvariant(), backboneIdentity,
            EmbeddingSettingsText(layerNorm, pretrainDimension, targetDimension, neighbourhoodSize));
    }

    /// <summary>
    /// The canonical text of the embedding settings, e.g. <c>layerNorm=true;P=1024;T=1024;k=3</c>: fixed order,
    /// invariant digits, so equal settings always give equal text.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or the neighbourhood size is below 1.</exception>
    public static string EmbeddingSettingsText(bool layerNorm, int pretrainDimension, int targetDimension, int neighbourhoodSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pretrainDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbourhoodSize, 1);
        return string.Create(CultureInfo.InvariantCulture,
            $"layerNorm={(layerNorm ? "true" : "false")};P={pretrainDimension};T={targetDimension};k={neighbourhoodSize}");
    }

    /// <summary>SHA-256 of an image file's bytes as 64 lowercase hex digits.</summary>
    public static string HashImage(ReadOnlySpan<byte> imageBytes) => Convert.ToHexStringLower(SHA256.HashData(imageBytes));

    /// <summary>SHA-256 of an image read from <paramref name="image"/> to its end, as 64 lowercase hex digits.</summary>
    public static async Task<string> HashImageAsync(Stream image, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(await SHA256.HashDataAsync(image, cancellationToken).ConfigureAwait(false));
}
