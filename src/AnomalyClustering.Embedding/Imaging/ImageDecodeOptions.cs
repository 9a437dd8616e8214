namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Decoder settings: the size limits checked from the image header before any pixel memory is
/// allocated (the guard against decompression bombs), and whether EXIF orientation is applied.
/// </summary>
public sealed record ImageDecodeOptions
{
    /// <summary>The default limits: 32768 pixels per side, 100 megapixels, 512 MiB of encoded data.</summary>
    public static ImageDecodeOptions Default { get; } = new();

    /// <summary>Largest accepted width or height in pixels (after EXIF orientation is considered, both sides count).</summary>
    public int MaxDimension { get; init; } = 32_768;

    /// <summary>
    /// Largest accepted width x height. Decoding needs about 7 bytes per pixel (an RGBA scratch and the
    /// RGB result), so the default of 100 megapixels bounds one decode at about 700 MB.
    /// </summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>Largest accepted encoded size in bytes of a file (it is read into memory whole).</summary>
    public long MaxEncodedBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// Rotate or mirror the pixels as the EXIF orientation tag says (default true). The reference
    /// pipeline (PIL's Image.open without exif_transpose) ignores the tag; set false to reproduce it.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a limit is not positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDimension, 1, nameof(MaxDimension));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPixels, 1, nameof(MaxPixels));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEncodedBytes, 1, nameof(MaxEncodedBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxEncodedBytes, (long)Array.MaxLength, nameof(MaxEncodedBytes));
    }
}
