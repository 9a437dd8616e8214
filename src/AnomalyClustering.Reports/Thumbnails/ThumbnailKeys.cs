using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>
/// Names of cached thumbnails, derived from what they show: a plain thumbnail from the image's content hash, the
/// thumbnail size and the region the backbone saw; a heat map from those and the alpha map. The same image in another
/// job or folder finds its thumbnail again; a changed image or alpha map never hits a stale one.
/// </summary>
public static class ThumbnailKeys
{
    /// <summary>The content hash of an encoded image: SHA-256, the first 16 bytes as lowercase hex.</summary>
    public static string ContentHash(ReadOnlySpan<byte> encodedImage) => Convert.ToHexStringLower(SHA256.HashData(encodedImage)[..16]);

    /// <summary>
    /// The content hash of an image whose SHA-256 is already known (64 hex digits, as a job's image grain records it): the
    /// same value <see cref="ContentHash"/> gives for its bytes, so the image need not be read to find its thumbnail.
    /// </summary>
    /// <exception cref="ArgumentException">Not 64 hex digits.</exception>
    public static string ContentHashOfSha256(string sha256)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{sha256}' is not a SHA-256 (64 hex digits).", nameof(sha256));
        }
        return sha256[..32].ToLowerInvariant();
    }

    /// <summary>The key of an image's plain thumbnail.</summary>
    public static string Image(string contentHash, int size, PreprocessingOptions? preprocessing) =>
        string.Create(CultureInfo.InvariantCulture, $"img-{contentHash}-{size}-{Geometry(preprocessing)}.jpg");

    /// <summary>The key of an image's heat map for an alpha map on a <paramref name="gridHeight"/> x <paramref name="gridWidth"/> grid.</summary>
    public static string Heat(string contentHash, int size, PreprocessingOptions? preprocessing, ReadOnlySpan<float> alpha, int gridHeight, int gridWidth)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{contentHash}/{size}/{Geometry(preprocessing)}/{gridHeight}x{gridWidth}/{AlphaHeatMapVersion}")));
        Span<byte> value = stackalloc byte[4];
        foreach (var weight in alpha)
        {
            BinaryPrimitives.WriteSingleLittleEndian(value, weight);
            hash.AppendData(value);
        }
        return "heat-" + Convert.ToHexStringLower(hash.GetHashAndReset()[..16]) + ".jpg";
    }

    /// <summary>Returns <paramref name="key"/> when it is a key these methods make (letters, digits, '-', '.'), else throws.</summary>
    /// <exception cref="ArgumentException">
    /// Any other character, which could leave the cache folder or the blob prefix; or longer than <see cref="MaxKeyLength"/>,
    /// which no key is and which a file system or blob store would refuse with an error of its own.
    /// </exception>
    public static string Check(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > MaxKeyLength || key.StartsWith('.') || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')))
        {
            throw new ArgumentException($"'{key}' is not a thumbnail key.", nameof(key));
        }
        return key;
    }

    /// <summary>The longest key accepted; the keys made here are at most about 60 characters.</summary>
    public const int MaxKeyLength = 128;

    /// <summary>Bumped when the heat map's look changes (colour map, blending), so old cached heat maps are not reused.</summary>
    private const int AlphaHeatMapVersion = 1;

    /// <summary>A short stable name of the backbone's view: the whole image, or the centre-crop settings.</summary>
    private static string Geometry(PreprocessingOptions? preprocessing) =>
        preprocessing is null || preprocessing.ResizeMode == ImageResizeMode.Stretch
            ? "whole"
            : string.Create(CultureInfo.InvariantCulture, $"crop{preprocessing.ResizeShorterSide}-{preprocessing.CropWidth}x{preprocessing.CropHeight}");
}
