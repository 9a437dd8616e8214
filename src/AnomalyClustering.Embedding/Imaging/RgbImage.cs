namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// A decoded 8-bit RGB image: interleaved R, G, B bytes, row-major, no row padding. Reusable: decoding
/// into an existing instance grows its buffer only when a larger image arrives, so a loop over images
/// allocates nothing once the largest has been seen.
/// </summary>
public sealed class RgbImage
{
    // One spare byte past the last pixel lets the resampler read each pixel as one 4-byte load.
    internal const int SlackBytes = 1;

    private byte[] _buffer = [];

    /// <summary>An empty image (0 x 0), to be filled by <see cref="ImageDecoder"/>.</summary>
    public RgbImage()
    {
    }

    /// <summary>A black image of the given size.</summary>
    public RgbImage(int width, int height)
    {
        Reshape(width, height);
        Pixels.Clear();
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; private set; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; private set; }

    /// <summary>The encoded format it was decoded from ("PNG", "JPEG", ...), or null when built from pixels.</summary>
    public string? SourceFormat { get; internal set; }

    /// <summary>The pixels: <c>Height</c> rows of <c>Width * 3</c> bytes (R, G, B).</summary>
    public Span<byte> Pixels => _buffer.AsSpan(0, Width * Height * 3);

    /// <summary>The buffer including its slack byte (length at least <c>Width * Height * 3 + 1</c>).</summary>
    internal byte[] Buffer => _buffer;

    /// <summary>Copies interleaved RGB pixels (<c>width * height * 3</c> bytes) into a new image.</summary>
    public static RgbImage FromPixels(int width, int height, ReadOnlySpan<byte> rgb)
    {
        var image = new RgbImage();
        image.Reshape(width, height);
        if (rgb.Length != image.Pixels.Length)
        {
            throw new ArgumentException($"expected {image.Pixels.Length} bytes for {width} x {height} RGB, got {rgb.Length}", nameof(rgb));
        }
        rgb.CopyTo(image.Pixels);
        return image;
    }

    /// <summary>Sets the size, growing the buffer if needed; the pixel contents are then undefined.</summary>
    internal void Reshape(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var needed = (long)width * height * 3 + SlackBytes;
        if (needed > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"{width} x {height} RGB does not fit in one buffer");
        }
        if (_buffer.Length < needed)
        {
            _buffer = GC.AllocateUninitializedArray<byte>((int)needed);
        }
        Width = width;
        Height = height;
        SourceFormat = null;
    }
}
