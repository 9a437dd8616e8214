using AnomalyClustering.Embedding.Imaging;

namespace AnomalyClustering.Embedding.Tests.Imaging;

public class ImageDecoderTests
{
    // JPEG decoders may differ in IDCT and chroma upsampling; libjpeg-turbo's ISLOW IDCT with fancy
    // upsampling (PIL and Skia here) agree exactly, other builds within a couple of levels.
    private const int JpegMaxDifference = 2;
    private const double JpegMeanDifference = 0.25;

    private readonly ImageDecoder _decoder = new();

    [Theory]
    [InlineData("rgb8.png", "PNG")]
    [InlineData("rgba8.png", "PNG")]
    [InlineData("palette.png", "PNG")]
    [InlineData("rgb.bmp", "BMP")]
    [InlineData("lossless.webp", "WebP")]
    [InlineData("animated.gif", "GIF")]
    public void LosslessFormatsDecodeToPilPixelsExactly(string name, string format)
    {
        var image = _decoder.Decode(ImageFixtures.Path(name));
        var (max, _) = ImageFixtures.Difference(image, ImageFixtures.PilDecoded(name));
        Assert.Equal(0, max);
        Assert.Equal(format, image.SourceFormat);
    }

    [Theory]
    [InlineData("baseline.jpg")]
    [InlineData("grey.jpg")]
    [InlineData("progressive.jpg")]
    [InlineData("cmyk.jpg")]
    public void JpegVariantsDecodeCloseToPil(string name)
    {
        var image = _decoder.Decode(ImageFixtures.Path(name));
        var (max, mean) = ImageFixtures.Difference(image, ImageFixtures.PilDecoded(name));
        Assert.True(max <= JpegMaxDifference, $"{name}: max difference {max} levels");
        Assert.True(mean <= JpegMeanDifference, $"{name}: mean difference {mean:F3} levels");
        Assert.Equal("JPEG", image.SourceFormat);
    }

    [Fact]
    public void GreyJpegIsReplicatedToThreeEqualChannels()
    {
        var pixels = _decoder.Decode(ImageFixtures.Path("grey.jpg")).Pixels;
        var distinctGreys = new HashSet<byte>();
        for (var i = 0; i < pixels.Length; i += 3)
        {
            Assert.Equal(pixels[i], pixels[i + 1]);
            Assert.Equal(pixels[i], pixels[i + 2]);
            distinctGreys.Add(pixels[i]);
        }
        Assert.True(distinctGreys.Count > 50);
    }

    [Fact]
    public void AnimatedGifDecodesItsFirstFrame()
    {
        var image = _decoder.Decode(ImageFixtures.Path("animated.gif"));
        var frame0 = ImageFixtures.PilDecoded("animated.gif");
        var frame1Npy = ImageFixtures.Npy("animated.gif.frame1.rgb.npy");
        var frame1 = RgbImage.FromPixels(frame1Npy.Shape[1], frame1Npy.Shape[0], Array.ConvertAll(frame1Npy.ToDoubles(), v => (byte)v));
        Assert.Equal(0, ImageFixtures.Difference(image, frame0).Max);
        // The second frame is a different picture, so matching frame 0 is not a coincidence.
        Assert.True(ImageFixtures.Difference(image, frame1).Mean > 20);
    }

    [Theory]
    [InlineData("grey16.png", 1)]
    [InlineData("rgb16.png", 3)]
    public void SixteenBitPngKeepsTheHighByte(string name, int channels)
    {
        var image = _decoder.Decode(ImageFixtures.Path(name));
        var raw = ImageFixtures.Npy(name + ".u16.npy");
        var values = raw.ToDoubles();
        Assert.Equal((raw.Shape[1], raw.Shape[0]), (image.Width, image.Height));
        var pixels = image.Pixels;
        for (var p = 0; p < image.Width * image.Height; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                var sample = (int)values[p * channels + (channels == 1 ? 0 : c)];
                // SkiaSharp refuses a 16-bit destination (InvalidConversion), so the high byte it keeps is what we get.
                Assert.Equal(sample >> 8, pixels[p * 3 + c]);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ExifOrientationIsAppliedLikePilExifTranspose(int orientation)
    {
        var name = $"exif_orientation_{orientation}.jpg";
        var image = _decoder.Decode(ImageFixtures.Path(name));
        var expected = ImageFixtures.PilDecoded(name);
        // Stored as 48 x 32; orientations 5 to 8 swap the sides.
        Assert.Equal(orientation >= 5 ? (32, 48) : (48, 32), (image.Width, image.Height));
        var (max, mean) = ImageFixtures.Difference(image, expected);
        Assert.True(max <= JpegMaxDifference && mean <= JpegMeanDifference, $"orientation {orientation}: max {max}, mean {mean:F3}");
    }

    [Fact]
    public void ExifOrientationCanBeIgnoredLikeThePlainReferenceLoader()
    {
        var decoder = new ImageDecoder(new ImageDecodeOptions { ApplyExifOrientation = false });
        var stored = decoder.Decode(ImageFixtures.Path("exif_orientation_6.jpg"));
        var rotated = _decoder.Decode(ImageFixtures.Path("exif_orientation_6.jpg"));
        Assert.Equal((48, 32), (stored.Width, stored.Height));
        Assert.Equal((32, 48), (rotated.Width, rotated.Height));
        // Rotating 90 degrees clockwise moves the stored bottom-left pixel to the top-left.
        Assert.Equal(stored.Pixels.Slice(31 * 48 * 3, 3).ToArray(), rotated.Pixels[..3].ToArray());
    }

    [Theory]
    [InlineData("empty.png", ImageDecodeFailure.Empty, "empty")]
    [InlineData("truncated.png", ImageDecodeFailure.Truncated, "truncated PNG data (decoded")]
    [InlineData("truncated.jpg", ImageDecodeFailure.Truncated, "truncated JPEG data")]
    [InlineData("text.png", ImageDecodeFailure.NotAnImage, "This is a text file")]
    [InlineData("image.psd", ImageDecodeFailure.UnsupportedFormat, "Photoshop PSD images are not supported")]
    [InlineData("bomb.png", ImageDecodeFailure.TooLarge, "60000 x 60000")]
    public void BadFilesFailWithTheirReasonAndName(string name, ImageDecodeFailure reason, string messagePart)
    {
        var path = ImageFixtures.Path(name);
        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(path));
        Assert.Equal(reason, error.Reason);
        Assert.Equal(path, error.ImageId);
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(messagePart, error.Message);
    }

    [Fact]
    public void BombIsRefusedFromTheHeaderBeforeAllocatingPixels()
    {
        var bytes = ImageFixtures.Bytes("bomb.png");
        _ = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "warm-up"));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "bomb"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ImageDecodeFailure.TooLarge, error.Reason);
        // 60000 x 60000 RGBA would be 14.4 GB; refusing it must cost next to nothing.
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
        Assert.Contains("60000 x 60000", error.Message);
        Assert.Contains("--max-image-dimension", error.Message);
    }

    [Fact]
    public void SizeLimitsAreConfigurable()
    {
        var path = ImageFixtures.Path("rgb8.png"); // 96 x 72
        Assert.Equal(96, new ImageDecoder(new ImageDecodeOptions { MaxDimension = 96 }).Decode(path).Width);
        var side = Assert.Throws<ImageDecodeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxDimension = 95 }).Decode(path));
        Assert.Equal(ImageDecodeFailure.TooLarge, side.Reason);
        // Each names what a user can change (or that nothing can), never a C# member such as ImageDecodeOptions.MaxDimension.
        Assert.Contains("limit of 95 pixels (the job's maximum image dimension: --max-image-dimension", side.Message);

        Assert.Equal(72, new ImageDecoder(new ImageDecodeOptions { MaxPixels = 96 * 72 }).Decode(path).Height);
        var pixels = Assert.Throws<ImageDecodeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxPixels = 96 * 72 - 1 }).Decode(path));
        Assert.Equal(ImageDecodeFailure.TooLarge, pixels.Reason);
        Assert.Contains("limit of 6,911 pixels that one image may decode to", pixels.Message);

        var size = new FileInfo(path).Length;
        var bytes = Assert.Throws<ImageDecodeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxEncodedBytes = size - 1 }).Decode(path));
        Assert.Equal(ImageDecodeFailure.TooLarge, bytes.Reason);
        Assert.Contains("that a decoder reads whole; save the image smaller", bytes.Message);
        Assert.All(new[] { side, pixels, bytes }, e => Assert.DoesNotContain("ImageDecodeOptions", e.Message, StringComparison.Ordinal));

        // Even with the limits raised, the bomb is refused before any pixel memory is taken.
        var bomb = Assert.Throws<ImageDecodeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxDimension = 60000, MaxPixels = 60000L * 60000 }).Decode(ImageFixtures.Path("bomb.png")));
        Assert.Equal(ImageDecodeFailure.TooLarge, bomb.Reason); // 14.4 GB of RGBA exceeds what one buffer can hold
        Assert.Contains("3,600,000,000 pixels; one decode buffer holds at most", bomb.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageDecoder(new ImageDecodeOptions { MaxPixels = 0 }));
    }

    [Fact]
    public void MissingFileAndDirectoryAreUnreadable()
    {
        var missing = ImageFixtures.Path("no_such_image.png");
        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(missing));
        Assert.Equal(ImageDecodeFailure.Unreadable, error.Reason);
        Assert.StartsWith(missing + ": the file cannot be read", error.Message);
        Assert.IsAssignableFrom<IOException>(error.InnerException);

        var directory = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(System.IO.Path.GetDirectoryName(missing)!));
        Assert.Equal(ImageDecodeFailure.Unreadable, directory.Reason);
    }

    [Fact]
    public void InMemoryBytesAreNamedByTheirId()
    {
        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(ReadOnlySpan<byte>.Empty, "blob://line-4/img-17"));
        Assert.Equal(ImageDecodeFailure.Empty, error.Reason);
        Assert.Equal("blob://line-4/img-17: the file is empty (0 bytes); it was probably not copied or uploaded completely.", error.Message);

        var image = _decoder.Decode(ImageFixtures.Bytes("rgb8.png"), "rgb8");
        Assert.Equal(0, ImageFixtures.Difference(image, ImageFixtures.PilDecoded("rgb8.png")).Max);
    }

    [Theory]
    [InlineData("rgb8.png")]
    [InlineData("baseline.jpg")]
    [InlineData("progressive.jpg")]
    [InlineData("lossless.webp")]
    [InlineData("rgb.bmp")]
    public void EveryCutThroughTheImageDataIsReportedAsTruncated(string name)
    {
        var bytes = ImageFixtures.Bytes(name);
        var complete = CompleteLength(name, bytes);
        for (var length = 1; length < complete; length += Math.Max(1, complete / 60))
        {
            var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes.AsSpan(0, length), $"{name}[..{length}]"));
            Assert.True(error.Reason == ImageDecodeFailure.Truncated, $"{name} cut at {length} of {bytes.Length}: {error.Reason}: {error.Message}");
        }
    }

    [Fact]
    public void GifCutInsideItsFirstFrameIsTruncated()
    {
        var bytes = ImageFixtures.Bytes("animated.gif");
        for (var length = 20; length < 1300; length += 37)
        {
            var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes.AsSpan(0, length), "gif"));
            Assert.Equal(ImageDecodeFailure.Truncated, error.Reason);
        }
    }

    [Fact]
    public void DamagedBytesNeverEscapeAsAnythingButImageDecodeException()
    {
        var random = new Random(7);
        foreach (var name in new[] { "rgb8.png", "baseline.jpg", "progressive.jpg", "lossless.webp", "animated.gif", "rgb.bmp", "cmyk.jpg" })
        {
            var original = ImageFixtures.Bytes(name);
            for (var trial = 0; trial < 40; trial++)
            {
                var damaged = (byte[])original.Clone();
                var flips = random.Next(1, 12);
                for (var f = 0; f < flips; f++)
                {
                    damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
                }
                try
                {
                    var image = _decoder.Decode(damaged, name);
                    Assert.True(image.Width > 0 && image.Height > 0);
                }
                catch (ImageDecodeException e)
                {
                    Assert.StartsWith(name + ": ", e.Message);
                }
            }
        }
        // Native objects of failed decodes are released by finalizers too; run them here, not at exit.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var noise = new byte[4096];
        random.NextBytes(noise);
        noise[0] = 0x42; // not a signature any decoder recognises ("B" followed by noise)
        noise[1] = 0x00;
        Assert.Equal(ImageDecodeFailure.NotAnImage, Assert.Throws<ImageDecodeException>(() => _decoder.Decode(noise, "noise")).Reason);
    }

    [Fact]
    public void DecodingIntoAnImageReusesItsBuffer()
    {
        var image = new RgbImage();
        _decoder.Decode(ImageFixtures.Path("structured_400x300.png"), image);
        Assert.Equal((400, 300), (image.Width, image.Height));
        _decoder.Decode(ImageFixtures.Path("rgb8.png"), image);
        Assert.Equal(0, ImageFixtures.Difference(image, ImageFixtures.PilDecoded("rgb8.png")).Max);
        // The first decode above paid for JIT and codec set-up; this one must not allocate the
        // 360,000 bytes of pixels again (Skia's managed wrappers cost a few hundred bytes).
        var before = GC.GetAllocatedBytesForCurrentThread();
        _decoder.Decode(ImageFixtures.Path("structured_400x300.png"), image);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16_000, "decoding into a large enough image should not allocate its pixels");
        Assert.Equal((400, 300), (image.Width, image.Height));
    }

    /// <summary>Bytes up to the end of the last data a decoder needs (a PNG's IEND chunk carries no pixels).</summary>
    private static int CompleteLength(string name, byte[] bytes) =>
        name.EndsWith(".png", StringComparison.Ordinal) ? bytes.Length - 12 : bytes.Length;
}
