using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Testing.Imaging;
using BitMiracle.LibTiff.Classic;

namespace AnomalyClustering.Embedding.Tests.Imaging;

/// <summary>TIFF (8- and 16-bit, grey and RGB, compressed, oriented) and 16-bit greyscale PNG, as cameras write them, and their typed errors.</summary>
public class CameraFormatDecodingTests
{
    private readonly ImageDecoder _decoder = new();

    private static int Expected16(int value) => (value * 255 + 32767) / 65535; // round(v * 255 / 65535); never a tie

    [Fact]
    public void PilsTiffDecodesToPilsPixels()
    {
        var image = _decoder.Decode(ImageFixtures.Path("image.tif"));
        Assert.Equal("TIFF", image.SourceFormat);
        Assert.Equal(0, ImageFixtures.Difference(image, ImageFixtures.PilDecoded("image.tif")).Max);
    }

    [Theory]
    [InlineData(Compression.NONE)]
    [InlineData(Compression.LZW)]
    [InlineData(Compression.DEFLATE)]
    public void EightBitGreyTiffIsReplicatedToThreeChannels(Compression compression)
    {
        var bytes = CameraImageFiles.Tiff(37, 23, 8, 1, (x, y, _) => (x * 7 + y * 11) % 256, compression: compression);
        var image = _decoder.Decode(bytes, "grey8.tif");
        Assert.Equal((37, 23), (image.Width, image.Height));
        for (var y = 0; y < 23; y++)
        {
            for (var x = 0; x < 37; x++)
            {
                var pixel = image.Pixels.Slice((y * 37 + x) * 3, 3);
                Assert.Equal((x * 7 + y * 11) % 256, pixel[0]);
                Assert.Equal(pixel[0], pixel[1]);
                Assert.Equal(pixel[0], pixel[2]);
            }
        }
    }

    [Fact]
    public void SixteenBitGreyTiffIsScaledFromTheFullRange()
    {
        static int Sample(int x, int y) => (x * 1021 + y * 977) * 7 % 65536;
        var image = _decoder.Decode(CameraImageFiles.Tiff(64, 48, 16, 1, (x, y, _) => Sample(x, y), compression: Compression.LZW), "grey16.tif");
        for (var y = 0; y < 48; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                Assert.Equal(Expected16(Sample(x, y)), image.Pixels[(y * 64 + x) * 3 + 1]);
            }
        }
    }

    [Fact]
    public void SixteenBitRgbTiffKeepsItsChannels()
    {
        static int Sample(int x, int y, int c) => (x * 1031 * (c + 1) + y * 613) % 65536;
        var image = _decoder.Decode(CameraImageFiles.Tiff(20, 10, 16, 3, Sample), "rgb16.tif");
        for (var p = 0; p < 200; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                Assert.Equal(Expected16(Sample(p % 20, p / 20, c)), image.Pixels[p * 3 + c]);
            }
        }
    }

    [Fact]
    public void MinIsWhiteGreyIsInverted()
    {
        var image = _decoder.Decode(CameraImageFiles.Tiff(4, 2, 8, 1, (x, _, _) => x * 60, Photometric.MINISWHITE), "white.tif");
        Assert.Equal([255, 195, 135, 75], Enumerable.Range(0, 4).Select(x => (int)image.Pixels[x * 3]));
    }

    [Fact]
    public void TheOrientationTagTurnsTheImageLikeExif()
    {
        // RIGHTTOP (6): the stored rows are the picture's columns; the picture is 90 degrees clockwise of the stored image.
        var bytes = CameraImageFiles.Tiff(6, 4, 8, 1, (x, y, _) => y * 6 + x, orientation: Orientation.RIGHTTOP);
        var rotated = _decoder.Decode(bytes, "rotated.tif");
        var stored = new ImageDecoder(new ImageDecodeOptions { ApplyExifOrientation = false }).Decode(bytes, "stored.tif");
        Assert.Equal((6, 4), (stored.Width, stored.Height));
        Assert.Equal((4, 6), (rotated.Width, rotated.Height));
        // As for EXIF 6: the stored bottom-left pixel becomes the top-left.
        Assert.Equal(stored.Pixels[(3 * 6) * 3], rotated.Pixels[0]);
    }

    [Fact]
    public void SixteenBitGreyPngKeepsTheHighByte()
    {
        var bytes = CameraImageFiles.GreyPng16(33, 9, (x, y) => (ushort)(x * 1999 + y * 4001));
        var image = _decoder.Decode(bytes, "grey16.png");
        Assert.Equal("PNG", image.SourceFormat);
        for (var p = 0; p < 33 * 9; p++)
        {
            Assert.Equal((ushort)((p % 33) * 1999 + p / 33 * 4001) >> 8, image.Pixels[p * 3 + 2]);
        }
    }

    [Fact]
    public void ATruncatedTiffIsTruncatedAndADamagedOneCorrupt()
    {
        var bytes = CameraImageFiles.Tiff(64, 48, 16, 1, (x, y, _) => x * y);
        var cut = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes.AsSpan(0, bytes.Length / 2), "cut.tif"));
        Assert.True(cut.Reason is ImageDecodeFailure.Truncated or ImageDecodeFailure.Corrupt, cut.Message);
        Assert.StartsWith("cut.tif: ", cut.Message);
        Assert.Contains("TIFF", cut.Message);

        var header = Assert.Throws<ImageDecodeException>(() => _decoder.Decode("II*\0\u00ff\u00ff\u00ff\u00ff"u8, "bad.tif"));
        Assert.True(header.Reason is ImageDecodeFailure.Corrupt or ImageDecodeFailure.Truncated, header.Message);
    }

    [Fact]
    public void TiffSizeLimitsAreCheckedFromTheHeader()
    {
        var bytes = CameraImageFiles.Tiff(64, 48, 8, 1, (x, _, _) => x);
        var error = Assert.Throws<ImageDecodeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxDimension = 50 }).Decode(bytes, "big.tif"));
        Assert.Equal(ImageDecodeFailure.TooLarge, error.Reason);
        Assert.Contains("TIFF header declares 64 x 48", error.Message);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(65535)]
    public void ATiffWithTooManySamplesAPixelIsUnsupportedBeforeItsRowsAreSized(int samples)
    {
        // Written as 1 grey sample a pixel, then the SamplesPerPixel entry (tag 277, SHORT, count 1) is rewritten: a
        // tiny file whose header alone would size a row buffer of width x samples bytes.
        var bytes = CameraImageFiles.Tiff(40, 8, 8, 1, (x, _, _) => x);
        byte[] entry = [0x15, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00];
        var at = bytes.AsSpan().IndexOf(entry);
        Assert.True(at > 0, "the SamplesPerPixel entry of the written TIFF");
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 8, 2), (ushort)samples);

        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "many.tif"));
        Assert.Equal(ImageDecodeFailure.UnsupportedFormat, error.Reason);
        Assert.StartsWith("many.tif: ", error.Message);
        Assert.Contains($"{samples} samples a pixel", error.Message);
    }

    [Theory]
    [InlineData(12, SampleFormat.UINT)]
    [InlineData(32, SampleFormat.IEEEFP)]
    public void AValidTiffOfSamplesLibTiffCannotReadIsUnsupportedNotCorrupt(int bits, SampleFormat format)
    {
        // 12-bit and floating-point greyscale, as industrial cameras write them: well-formed files that exporting again
        // would not change, so the reason must say convert, not damaged.
        var stream = new MemoryStream();
        using (var tiff = Tiff.ClientOpen("odd.tif", "w", stream, new TiffStream()))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 16);
            tiff.SetField(TiffTag.IMAGELENGTH, 8);
            tiff.SetField(TiffTag.BITSPERSAMPLE, bits);
            tiff.SetField(TiffTag.SAMPLEFORMAT, format);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.ROWSPERSTRIP, 8);
            var row = new byte[tiff.ScanlineSize()];
            for (var y = 0; y < 8; y++)
            {
                Assert.True(tiff.WriteScanline(row, y));
            }
        }

        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(stream.ToArray(), "odd.tif"));

        Assert.Equal(ImageDecodeFailure.UnsupportedFormat, error.Reason);
        Assert.Contains($"{bits}-bit samples", error.Message);
        Assert.Contains("convert it", error.Message);
        Assert.DoesNotContain("damaged", error.Message);
    }

    [Fact]
    public void AGarbledTiffFailsWithATypedErrorNeverAnotherException()
    {
        // LibTiff.NET trips over damaged directories with NullReference, InvalidCast, DivideByZero... exceptions; each
        // must come out as this image's ImageDecodeException so that one bad file never fails a whole job.
        var original = CameraImageFiles.Tiff(24, 16, 16, 3, (x, y, c) => (x * 2000 + y * 300 + c * 7) % 65536, compression: Compression.LZW);
        var random = new Random(20261202);
        var failures = 0;
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var bytes = (byte[])original.Clone();
            for (var change = 0; change < 6; change++)
            {
                // Past the 8-byte header, so that the signature still says TIFF and LibTiff reads the damage.
                bytes[random.Next(8, bytes.Length)] = (byte)random.Next(256);
            }
            var thrown = Record.Exception(() => _decoder.Decode(bytes, "garbled.tif"));
            if (thrown is not null)
            {
                var error = Assert.IsType<ImageDecodeException>(thrown);
                Assert.True(error.Reason is ImageDecodeFailure.Corrupt or ImageDecodeFailure.Truncated or ImageDecodeFailure.UnsupportedFormat or ImageDecodeFailure.TooLarge, error.Message);
                failures++;
            }
        }
        Assert.True(failures > 0, "some of the garbled files must be refused");
    }
}
