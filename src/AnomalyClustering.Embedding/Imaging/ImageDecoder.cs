using System.Globalization;
using Microsoft.Win32.SafeHandles;
using SkiaSharp;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Decodes PNG (8- and 16-bit, grey or colour), JPEG (grey, progressive, CMYK), BMP, WebP and GIF (first frame) into
/// 8-bit RGB with SkiaSharp, and TIFF (first page; 8- and 16-bit greyscale and RGB) with LibTiff.NET (<see cref="TiffDecoding"/>),
/// applying the EXIF (TIFF) orientation. Every failure is an <see cref="ImageDecodeException"/>
/// naming the image and the reason; size limits are checked from the header before pixels are allocated.
/// </summary>
/// <remarks>
/// Conventions, chosen to match PIL's <c>Image.open(f).convert("RGB")</c> (the reference loader):
/// alpha is dropped without compositing; no ICC colour management; CMYK is converted naively;
/// 16-bit PNG samples keep their high byte, v >> 8 (SkiaSharp's conversion; it refuses a 16-bit destination, so exact
/// rounding is not available; at most one level below round(v * 255 / 65535)); PIL keeps the high byte of 16-bit RGB too
/// and clips 16-bit grey at 255, which whitens any image brighter than 0.4 %. 16-bit TIFF samples are rounded exactly.
/// Stateless and thread-safe: scratch memory comes from <see cref="ScratchArrays"/> (small arrays pooled, huge ones not).
/// Cost: O(encoded bytes + pixels), one RGBA scratch of 4 bytes a pixel.
/// </remarks>
public sealed class ImageDecoder
{
    /// <summary>Creates a decoder with the given limits (default <see cref="ImageDecodeOptions.Default"/>).</summary>
    public ImageDecoder(ImageDecodeOptions? options = null)
    {
        Options = options ?? ImageDecodeOptions.Default;
        Options.Validate();
    }

    /// <summary>The limits and orientation setting in force.</summary>
    public ImageDecodeOptions Options { get; }

    /// <summary>Reads and decodes one file; the path as given names the image in errors.</summary>
    /// <exception cref="ImageDecodeException">The file is unreadable, empty, truncated, not an image, unsupported, too large or corrupt.</exception>
    public RgbImage Decode(string path)
    {
        var image = new RgbImage();
        Decode(path, image);
        return image;
    }

    /// <summary>Decodes encoded bytes; <paramref name="imageId"/> names the image in errors.</summary>
    /// <exception cref="ImageDecodeException">The bytes are empty, truncated, not an image, unsupported, too large or corrupt.</exception>
    public RgbImage Decode(ReadOnlySpan<byte> encoded, string imageId)
    {
        var image = new RgbImage();
        Decode(encoded, imageId, image);
        return image;
    }

    /// <summary>Reads and decodes one file into <paramref name="destination"/>, reusing its buffer.</summary>
    /// <exception cref="ImageDecodeException">See <see cref="Decode(string)"/>.</exception>
    public void Decode(string path, RgbImage destination)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(destination);
        byte[]? rented = null;
        try
        {
            int length;
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
                var fileLength = RandomAccess.GetLength(handle);
                if (fileLength > Options.MaxEncodedBytes)
                {
                    throw new ImageDecodeException(path, ImageDecodeFailure.TooLarge,
                        $"the file is {FormatBytes(fileLength)}, over the limit of {FormatBytes(Options.MaxEncodedBytes)} that a decoder reads whole; save the image smaller or with more compression.");
                }
                rented = ScratchArrays.Rent<byte>((int)Math.Max(fileLength, 1));
                length = ReadWhole(handle, rented.AsSpan(0, (int)fileLength));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or NotSupportedException or ArgumentException)
            {
                throw new ImageDecodeException(path, ImageDecodeFailure.Unreadable, $"the file cannot be read: {e.Message}", e);
            }
            Decode(rented.AsSpan(0, length), path, destination);
        }
        finally
        {
            if (rented is not null)
            {
                ScratchArrays.Return(rented);
            }
        }
    }

    /// <summary>
    /// The width and height the image's header declares, read without decoding a pixel (what a caller needs to reserve
    /// memory before <see cref="Decode(ReadOnlySpan{byte}, string, RgbImage)"/>); null when the header cannot be read, in
    /// which case decoding fails on the same header before allocating pixels.
    /// </summary>
    public static unsafe (int Width, int Height)? ReadDimensions(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty || ImageSignature.Detect(encoded) is { Supported: false })
        {
            return null;
        }
        if (ImageSignature.Detect(encoded) is { Name: "TIFF" })
        {
            return TiffDecoding.ReadDimensions(encoded);
        }
        fixed (byte* encodedPointer = encoded)
        {
            using var data = SKData.Create((IntPtr)encodedPointer, encoded.Length);
            using var codec = SKCodec.Create(new SKMemoryStream(data), out _);
            return codec is null ? null : (codec.Info.Width, codec.Info.Height);
        }
    }

    /// <summary>Decodes encoded bytes into <paramref name="destination"/>, reusing its buffer.</summary>
    /// <exception cref="ImageDecodeException">See <see cref="Decode(ReadOnlySpan{byte}, string)"/>.</exception>
    public unsafe void Decode(ReadOnlySpan<byte> encoded, string imageId, RgbImage destination)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        ArgumentNullException.ThrowIfNull(destination);
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.Empty,
                "the file is empty (0 bytes); it was probably not copied or uploaded completely.");
        }
        if (encoded.Length > Options.MaxEncodedBytes)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the data is {FormatBytes(encoded.Length)}, over the limit of {FormatBytes(Options.MaxEncodedBytes)} that a decoder reads whole; save the image smaller or with more compression.");
        }
        var signature = ImageSignature.Detect(encoded);
        if (signature is { Supported: false } unsupported)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.UnsupportedFormat,
                $"{unsupported.Name} images are not supported; convert it to PNG or JPEG (supported: {ImageSignature.SupportedList}).");
        }

        if (signature is { Name: "TIFF" })
        {
            TiffDecoding.Decode(encoded, imageId, destination, Options.ApplyExifOrientation, (width, height) => CheckLimits(imageId, "TIFF", width, height));
            return;
        }

        fixed (byte* encodedPointer = encoded)
        {
            // Wraps the caller's bytes without copying; the codec is disposed before they unpin.
            using var data = SKData.Create((IntPtr)encodedPointer, encoded.Length);
            using var codec = SKCodec.Create(new SKMemoryStream(data), out var createResult);
            if (codec is null)
            {
                throw CreateFailure(imageId, encoded, signature?.Name, createResult);
            }
            var format = FormatName(codec.EncodedFormat);
            var width = codec.Info.Width;
            var height = codec.Info.Height;
            CheckLimits(imageId, format, width, height);

            var origin = Options.ApplyExifOrientation ? codec.EncodedOrigin : SKEncodedOrigin.TopLeft;
            if (!Enum.IsDefined(origin))
            {
                origin = SKEncodedOrigin.TopLeft;
            }
            // Unpremultiplied RGBA and no colour space: the stored RGB values, untouched by alpha or ICC.
            var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
            var scratch = ScratchArrays.Rent<byte>(checked(width * height * 4));
            try
            {
                var (result, rowsDecoded) = DecodePixels(codec, info, scratch);
                CheckResult(imageId, format, encoded, height, result, rowsDecoded);
                var (outWidth, outHeight) = OrientedRgbCopy.OrientedSize(width, height, origin);
                destination.Reshape(outWidth, outHeight);
                OrientedRgbCopy.Copy(scratch, width, height, origin, destination.Pixels);
                destination.SourceFormat = format;
            }
            finally
            {
                ScratchArrays.Return(scratch);
            }
        }
    }

    private static unsafe (SKCodecResult Result, int RowsDecoded) DecodePixels(SKCodec codec, SKImageInfo info, byte[] scratch)
    {
        fixed (byte* pixels = scratch)
        {
            // The incremental path (PNG, GIF) reports how many rows arrived before the data ended,
            // which makes the truncation message concrete; the other formats decode in one call.
            var start = codec.StartIncrementalDecode(info, (IntPtr)pixels, info.RowBytes);
            if (start == SKCodecResult.Success)
            {
                var result = codec.IncrementalDecode(out var rows);
                return (result, result == SKCodecResult.Success ? info.Height : rows);
            }
            return (codec.GetPixels(info, (IntPtr)pixels), -1);
        }
    }

    private void CheckLimits(string imageId, string format, int width, int height)
    {
        var pixels = (long)width * height;
        var largestSide = Math.Max(width, height);
        if (largestSide > Options.MaxDimension)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the {format} header declares {width} x {height} pixels; a side of {largestSide} is over the limit of {Options.MaxDimension} pixels (the job's maximum image dimension: --max-image-dimension, or maxImageDimension within a server's own limit). Refused before decoding; scale the image down, or raise that limit if such images are expected.");
        }
        if (pixels > Options.MaxPixels)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the {format} header declares {width} x {height} = {Count(pixels)} pixels, over the limit of {Count(Options.MaxPixels)} pixels that one image may decode to. Refused before decoding; scale the image down.");
        }
        if (pixels * 4 > Array.MaxLength)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.TooLarge,
                $"the {format} header declares {width} x {height} = {Count(pixels)} pixels; one decode buffer holds at most {Count(Array.MaxLength / 4)}. Refused before decoding; split or downscale the image.");
        }
    }

    private static ImageDecodeException CreateFailure(string imageId, ReadOnlySpan<byte> encoded, string? signatureName, SKCodecResult result)
    {
        if (signatureName is null)
        {
            return new ImageDecodeException(imageId, ImageDecodeFailure.NotAnImage,
                $"not an image: it has no PNG, JPEG, BMP, GIF, WebP or TIFF signature; {ImageSignature.DescribeStart(encoded)}.");
        }
        if (result == SKCodecResult.IncompleteInput || (signatureName == "WebP" && ContainerIntegrity.WebpDeclaredLength(encoded) > encoded.Length))
        {
            return new ImageDecodeException(imageId, ImageDecodeFailure.Truncated,
                $"truncated {signatureName} data: the data ends inside the header, after {FormatBytes(encoded.Length)}; it was cut short, copy or export it again.");
        }
        return new ImageDecodeException(imageId, ImageDecodeFailure.Corrupt,
            $"the {signatureName} header is invalid ({result}); the file is damaged, export it again.");
    }

    private static void CheckResult(string imageId, string format, ReadOnlySpan<byte> encoded, int height, SKCodecResult result, int rowsDecoded)
    {
        var rowsText = rowsDecoded >= 0 ? $"decoded {rowsDecoded} of {height} rows from {FormatBytes(encoded.Length)}" : FormatBytes(encoded.Length);
        if (result == SKCodecResult.Success)
        {
            if (format == "JPEG")
            {
                var layout = ContainerIntegrity.ScanJpeg(encoded);
                // A cut baseline JPEG is reported as incomplete by the decoder; a cut progressive one
                // decodes "successfully" from its first scans, so only the missing end marker shows it.
                if (layout.IsProgressive && !layout.HasEndOfImage)
                {
                    throw new ImageDecodeException(imageId, ImageDecodeFailure.Truncated,
                        $"truncated JPEG data: the progressive JPEG ({FormatBytes(encoded.Length)}) has no end-of-image marker, so its later scans are missing; it was cut short, copy or export it again.");
                }
            }
            else if (format == "WebP" && ContainerIntegrity.WebpDeclaredLength(encoded) > encoded.Length)
            {
                throw new ImageDecodeException(imageId, ImageDecodeFailure.Truncated,
                    $"truncated WebP data ({FormatBytes(encoded.Length)} of the {FormatBytes(ContainerIntegrity.WebpDeclaredLength(encoded))} its header declares); it was cut short, copy or export it again.");
            }
            return;
        }
        if (result == SKCodecResult.IncompleteInput ||
            (format == "WebP" && ContainerIntegrity.WebpDeclaredLength(encoded) > encoded.Length))
        {
            var what = format == "WebP"
                ? $"{FormatBytes(encoded.Length)} of the {FormatBytes(ContainerIntegrity.WebpDeclaredLength(encoded))} its header declares"
                : rowsDecoded >= 0 ? rowsText : $"the data ends after {FormatBytes(encoded.Length)}, before the image does";
            throw new ImageDecodeException(imageId, ImageDecodeFailure.Truncated,
                $"truncated {format} data ({what}); the file was cut short, copy or export it again.");
        }
        throw new ImageDecodeException(imageId, ImageDecodeFailure.Corrupt,
            $"the {format} data is damaged ({result}; {rowsText}); export the image again.");
    }

    private static int ReadWhole(SafeFileHandle handle, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], total);
            if (read == 0)
            {
                break; // the file shrank while being read; decode what is there
            }
            total += read;
        }
        return total;
    }

    private static string FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Bmp => "BMP",
        SKEncodedImageFormat.Ico => "ICO",
        SKEncodedImageFormat.Wbmp => "WBMP",
        _ => format.ToString().ToUpperInvariant(),
    };

    private static string FormatBytes(long bytes) => Count(bytes) + " bytes";

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
