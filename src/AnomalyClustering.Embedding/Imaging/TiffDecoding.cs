using System.Globalization;
using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// TIFF (first page) to 8-bit RGB with LibTiff.NET, for <see cref="ImageDecoder"/>. Greyscale and RGB with 8 or 16 bits
/// per sample in strips (what industrial cameras write) are read row by row here: 16-bit samples are scaled from the
/// full 0..65535 range, round(v * 255 / 65535), min-is-white greyscale is inverted, extra samples (alpha) are dropped,
/// and the Orientation tag is applied like EXIF's. Everything else (palette, tiles, planar, YCbCr, CMYK, 1-bit) goes
/// through LibTiff's RGBA interface, which applies the orientation itself. Errors are <see cref="ImageDecodeException"/>s
/// with the same reasons as the other formats. O(encoded bytes + pixels).
/// </summary>
internal static class TiffDecoding
{
    /// <summary>
    /// Parts of LibTiff's messages for a well-formed TIFF it has no reader for: sample sizes and formats its RGBA
    /// interface lacks ("Sorry, can not handle images with 12-bit samples") and codecs it does not implement. Its
    /// "cannot handle zero ..." (one word) is damage and stays corrupt.
    /// </summary>
    private static readonly string[] UnsupportedMessages =
        ["can not handle", "is not implemented", "not implemented yet", "is not configured", "not supported with", "not supported for this compression"];

    [ThreadStatic]
    private static string? t_lastError;

    static TiffDecoding()
    {
        // LibTiff reports problems through one process-wide handler (it prints to the console by default); keep each
        // thread's last message so that the failure of this thread's decode can quote it.
        Tiff.SetErrorHandler(new RecordingErrorHandler());
    }

    /// <summary>Decodes <paramref name="encoded"/> into <paramref name="destination"/>; <paramref name="checkLimits"/> sees width and height before pixels are allocated.</summary>
    public static void Decode(ReadOnlySpan<byte> encoded, string imageId, RgbImage destination, bool applyOrientation, Action<int, int> checkLimits)
    {
        try
        {
            DecodeChecked(encoded, imageId, destination, applyOrientation, checkLimits);
        }
        catch (Exception e) when (e is not ImageDecodeException and not OutOfMemoryException)
        {
            // LibTiff.NET answers malformed data with whatever its code trips over (NullReference, InvalidCast,
            // DivideByZero, IndexOutOfRange, seeks past the end...), not with error codes; any of them is this one
            // image's failure, never the job's. Running out of memory is the process's problem, not the file's.
            var truncated = e is ArgumentOutOfRangeException or EndOfStreamException or IOException or IndexOutOfRangeException;
            throw new ImageDecodeException(imageId, truncated ? ImageDecodeFailure.Truncated : ImageDecodeFailure.Corrupt,
                truncated
                    ? $"truncated TIFF data: its directory or strips point past the end of the {encoded.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes ({e.Message}); the file was cut short, copy or export it again."
                    : $"the TIFF data is damaged ({e.Message}); export the image again.", e);
        }
    }

    /// <summary>The header's width and height, or null when the data is no readable TIFF.</summary>
    public static unsafe (int Width, int Height)? ReadDimensions(ReadOnlySpan<byte> encoded)
    {
        try
        {
            fixed (byte* pointer = encoded)
            {
                using var stream = new UnmanagedMemoryStream(pointer, encoded.Length);
                using var tiff = Tiff.ClientOpen("header", "r", stream, new TiffStream());
                if (tiff is null)
                {
                    return null;
                }
                var width = Int(tiff, TiffTag.IMAGEWIDTH, 0);
                var height = Int(tiff, TiffTag.IMAGELENGTH, 0);
                return width < 1 || height < 1 ? null : (width, height);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // As in Decode: LibTiff.NET answers malformed data with whatever it trips over; the decode reports it properly.
            return null;
        }
    }

    private static unsafe void DecodeChecked(ReadOnlySpan<byte> encoded, string imageId, RgbImage destination, bool applyOrientation, Action<int, int> checkLimits)
    {
        t_lastError = null;
        fixed (byte* pointer = encoded)
        {
            // LibTiff reads from a Stream; this one wraps the caller's bytes without copying them, and the TIFF and the
            // stream are disposed before the bytes unpin.
            using var stream = new UnmanagedMemoryStream(pointer, encoded.Length);
            using var tiff = Tiff.ClientOpen(imageId, "r", stream, new TiffStream());
            if (tiff is null)
            {
                throw Failure(imageId, encoded.Length, "header");
            }
            DecodeOpened(tiff, imageId, encoded.Length, destination, applyOrientation, checkLimits);
        }
    }

    private static void DecodeOpened(Tiff tiff, string imageId, int length, RgbImage destination, bool applyOrientation, Action<int, int> checkLimits)
    {
        var width = Int(tiff, TiffTag.IMAGEWIDTH, 0);
        var height = Int(tiff, TiffTag.IMAGELENGTH, 0);
        if (width < 1 || height < 1)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.Corrupt, $"the TIFF header declares {width} x {height} pixels; the file is damaged, export it again.");
        }
        checkLimits(width, height);
        var bits = UnsignedShort(tiff, TiffTag.BITSPERSAMPLE, 1);
        var samples = UnsignedShort(tiff, TiffTag.SAMPLESPERPIXEL, 1);
        var photometric = (Photometric)Int(tiff, TiffTag.PHOTOMETRIC, (int)Photometric.MINISBLACK);
        var planar = (PlanarConfig)Int(tiff, TiffTag.PLANARCONFIG, (int)PlanarConfig.CONTIG);
        var format = (SampleFormat)Int(tiff, TiffTag.SAMPLEFORMAT, (int)SampleFormat.UINT);
        var orientation = (SKEncodedOrigin)Int(tiff, TiffTag.ORIENTATION, 1);
        var grey = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE;
        var rgb = photometric == Photometric.RGB;
        if (samples is < 1 or > 4 || (grey && samples > 2) || (rgb && samples < 3))
        {
            // The row buffers (ours and LibTiff's) are sized from these header fields, which CheckLimits does not
            // bound: a tiny file declaring 65,535 samples a pixel would ask for gigabytes. Cameras write grey (plus
            // alpha) or RGB (plus alpha), so anything else is refused before a buffer is sized from it.
            throw new ImageDecodeException(imageId, ImageDecodeFailure.UnsupportedFormat,
                $"the TIFF declares {samples} samples a pixel for photometric interpretation {(int)photometric}; only grey (1-2 samples) or RGB (3-4) and at most 4 samples are read, convert it to PNG.");
        }
        var rowWise = (grey || rgb) && bits is 8 or 16 && format == SampleFormat.UINT && planar == PlanarConfig.CONTIG && !tiff.IsTiled();

        var scratch = ScratchArrays.Rent<byte>(checked(width * height * 4));
        try
        {
            if (rowWise)
            {
                ReadRows(tiff, imageId, length, width, height, bits, samples, grey, photometric == Photometric.MINISWHITE, scratch);
            }
            else
            {
                ReadThroughRgba(tiff, imageId, length, width, height, scratch);
                orientation = SKEncodedOrigin.TopLeft; // the RGBA interface has applied it
            }
            if (!applyOrientation || !Enum.IsDefined(orientation))
            {
                orientation = SKEncodedOrigin.TopLeft;
            }
            var (outWidth, outHeight) = OrientedRgbCopy.OrientedSize(width, height, orientation);
            destination.Reshape(outWidth, outHeight);
            OrientedRgbCopy.Copy(scratch, width, height, orientation, destination.Pixels);
            destination.SourceFormat = "TIFF";
        }
        finally
        {
            ScratchArrays.Return(scratch);
        }
    }

    private static void ReadRows(Tiff tiff, string imageId, int length, int width, int height, int bits, int samples, bool grey, bool minIsWhite, byte[] rgba)
    {
        var row = new byte[tiff.ScanlineSize()];
        var bytesPerSample = bits / 8;
        if (row.Length < width * samples * bytesPerSample)
        {
            throw new ImageDecodeException(imageId, ImageDecodeFailure.Corrupt, $"the TIFF rows are shorter than {width} pixels of {samples} x {bits}-bit samples; the file is damaged, export it again.");
        }
        for (var y = 0; y < height; y++)
        {
            if (!tiff.ReadScanline(row, y))
            {
                throw Failure(imageId, length, $"row {y} of {height}");
            }
            var output = rgba.AsSpan(y * width * 4, width * 4);
            for (var x = 0; x < width; x++)
            {
                var first = x * samples;
                if (grey)
                {
                    var value = Sample(row, first, bytesPerSample);
                    if (minIsWhite)
                    {
                        value = (byte)(255 - value);
                    }
                    output[x * 4] = output[x * 4 + 1] = output[x * 4 + 2] = value;
                }
                else
                {
                    output[x * 4] = Sample(row, first, bytesPerSample);
                    output[x * 4 + 1] = Sample(row, first + 1, bytesPerSample);
                    output[x * 4 + 2] = Sample(row, first + 2, bytesPerSample);
                }
                output[x * 4 + 3] = 255;
            }
        }
    }

    /// <summary>Sample <paramref name="index"/> of a row as 8 bits; LibTiff has already put 16-bit samples in machine order.</summary>
    private static byte Sample(byte[] row, int index, int bytesPerSample) =>
        bytesPerSample == 1 ? row[index] : Scale16(BitConverter.ToUInt16(row, index * 2));

    /// <summary>A 16-bit sample to 8 bits over the full range, rounded to nearest: round(v * 255 / 65535), exact in integers.</summary>
    internal static byte Scale16(ushort value) => (byte)((value * 255 + 32767) / 65535);

    private static void ReadThroughRgba(Tiff tiff, string imageId, int length, int width, int height, byte[] rgba)
    {
        var raster = new int[checked(width * height)];
        if (!tiff.ReadRGBAImageOriented(width, height, raster, Orientation.TOPLEFT))
        {
            throw Failure(imageId, length, "image data");
        }
        for (var i = 0; i < raster.Length; i++)
        {
            rgba[i * 4] = (byte)Tiff.GetR(raster[i]);
            rgba[i * 4 + 1] = (byte)Tiff.GetG(raster[i]);
            rgba[i * 4 + 2] = (byte)Tiff.GetB(raster[i]);
            rgba[i * 4 + 3] = 255;
        }
    }

    private static ImageDecodeException Failure(string imageId, int length, string where)
    {
        var message = t_lastError ?? "LibTiff gave no reason";
        // LibTiff words a read past the end of the data as a read or seek error with the bytes it got.
        var truncated = message.Contains("Read error", StringComparison.OrdinalIgnoreCase)
            || message.Contains("Seek error", StringComparison.OrdinalIgnoreCase)
            || message.Contains("Cannot read", StringComparison.OrdinalIgnoreCase)
            || message.Contains("unexpected end", StringComparison.OrdinalIgnoreCase);
        var size = length.ToString("N0", CultureInfo.InvariantCulture);
        if (truncated)
        {
            return new ImageDecodeException(imageId, ImageDecodeFailure.Truncated, $"truncated TIFF data (the {where} ends after {size} bytes: {message}); the file was cut short, copy or export it again.");
        }
        // A valid TIFF that LibTiff cannot read (12-bit or floating-point samples from industrial cameras, a codec it
        // lacks) is no damage: exporting it again would give the same file, converting it is what helps.
        return UnsupportedMessages.Any(part => message.Contains(part, StringComparison.OrdinalIgnoreCase))
            ? new ImageDecodeException(imageId, ImageDecodeFailure.UnsupportedFormat,
                $"this kind of TIFF is not supported ({message}); convert it to 8- or 16-bit greyscale or RGB (TIFF or PNG).")
            : new ImageDecodeException(imageId, ImageDecodeFailure.Corrupt, $"the TIFF {where} is damaged ({message}); export the image again.");
    }

    private static int Int(Tiff tiff, TiffTag tag, int fallback)
    {
        var value = tiff.GetField(tag);
        return value is { Length: > 0 } ? value[0].ToInt() : fallback;
    }

    /// <summary>A SHORT field as TIFF defines it, 0..65535 (LibTiff hands SHORTs over signed, so 65535 would read as -1).</summary>
    private static int UnsignedShort(Tiff tiff, TiffTag tag, int fallback)
    {
        var value = tiff.GetField(tag);
        return value is { Length: > 0 } ? value[0].ToUShort() : fallback;
    }

    /// <summary>Keeps LibTiff's messages instead of printing them.</summary>
    private sealed class RecordingErrorHandler : TiffErrorHandler
    {
        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args) =>
            t_lastError = $"{method}: {string.Format(CultureInfo.InvariantCulture, format, args)}";

        public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
        }

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args)
        {
        }

        public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
        }
    }
}
