using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.HeatMaps;
using SkiaSharp;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>A thumbnail and, when the image has an alpha map, its heat map (JPEG bytes of the same size).</summary>
/// <param name="Image">The plain thumbnail.</param>
/// <param name="Heat">The thumbnail with the alpha heat map blended over it, or null without an alpha map.</param>
/// <param name="Width">Width of both, in pixels.</param>
/// <param name="Height">Height of both, in pixels.</param>
public sealed record RenderedThumbnail(byte[] Image, byte[]? Heat, int Width, int Height);

/// <summary>
/// Makes a report's thumbnails with SkiaSharp: decodes the image as the pipeline does (EXIF orientation, grey to RGB),
/// takes the region the backbone saw (<see cref="PatchGridRegion"/>), scales it so its longer side is
/// <see cref="Size"/> pixels (linear filtering with mipmaps), and encodes JPEG; the heat map is the same thumbnail with
/// the upsampled alpha map blended over it (<see cref="AlphaHeatMap"/>). Thread-safe.
/// </summary>
/// <remarks>O(image pixels) to decode, O(Size^2) to scale, colour and encode.</remarks>
public sealed class ThumbnailRenderer
{
    private readonly ImageDecoder _decoder;

    /// <summary>A renderer of <paramref name="size"/>-pixel thumbnails of what <paramref name="preprocessing"/> shows the backbone.</summary>
    public ThumbnailRenderer(int size, PreprocessingOptions? preprocessing, int jpegQuality = 85, ImageDecodeOptions? decoding = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(jpegQuality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jpegQuality, 100);
        Size = size;
        Preprocessing = preprocessing;
        JpegQuality = jpegQuality;
        _decoder = new ImageDecoder(decoding);
    }

    /// <summary>Longer side of a thumbnail, in pixels.</summary>
    public int Size { get; }

    /// <summary>How the job fitted images to the backbone (null: unknown, the whole image is shown).</summary>
    public PreprocessingOptions? Preprocessing { get; }

    /// <summary>JPEG quality, 1-100.</summary>
    public int JpegQuality { get; }

    /// <summary>Renders the thumbnail of an encoded image and, when <paramref name="alpha"/> is given, its heat map.</summary>
    /// <exception cref="ImageDecodeException">The bytes are not a decodable image.</exception>
    /// <exception cref="ArgumentException"><paramref name="alpha"/> does not have <paramref name="gridHeight"/> x <paramref name="gridWidth"/> values.</exception>
    public RenderedThumbnail Render(ReadOnlySpan<byte> encoded, string imageId, ReadOnlySpan<float> alpha = default, int gridHeight = 0, int gridWidth = 0)
    {
        var decoded = _decoder.Decode(encoded, imageId);
        var region = PatchGridRegion.Of(decoded.Width, decoded.Height, Preprocessing);
        var (width, height) = region.ThumbnailSize(Size);

        var rgba = new byte[decoded.Width * decoded.Height * 4];
        var rgb = decoded.Pixels;
        for (int source = 0, target = 0; source < rgb.Length; source += 3, target += 4)
        {
            rgba[target] = rgb[source];
            rgba[target + 1] = rgb[source + 1];
            rgba[target + 2] = rgb[source + 2];
            rgba[target + 3] = 255;
        }
        using var original = SKImage.FromPixelCopy(new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.DrawImage(
                original,
                SKRect.Create((float)region.Left, (float)region.Top, (float)region.Width, (float)region.Height),
                SKRect.Create(0, 0, width, height),
                new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var image = Encode(bitmap);
        if (alpha.IsEmpty)
        {
            return new RenderedThumbnail(image, null, width, height);
        }

        var heat = new float[width * height];
        AlphaHeatMap.Upsample(alpha, gridHeight, gridWidth, heat, height, width);
        AlphaHeatMap.Normalize(heat);
        AlphaHeatMap.BlendOver(bitmap.GetPixelSpan(), heat);
        bitmap.NotifyPixelsChanged();
        return new RenderedThumbnail(image, Encode(bitmap), width, height);
    }

    private byte[] Encode(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, JpegQuality);
        return data.ToArray();
    }
}
