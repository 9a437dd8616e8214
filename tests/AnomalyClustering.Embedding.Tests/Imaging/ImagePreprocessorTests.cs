using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Tests.Imaging;

public class ImagePreprocessorTests
{
    // One 8-bit grey level after normalisation, for the channel with the smallest std (0.224).
    private const float OneGreyLevel = 1f / 255f / 0.224f;

    [Theory]
    [InlineData("rgb8.png", 64, 56, 56)]            // 96x72 upscaled to 85x64; crop offset round(14.5) = 14
    [InlineData("rgb8.png", 48, 32, 40)]            // non-square crop
    [InlineData("rgb8.png", 40, 48, 48)]            // 53x40: crop taller than the image, zero padding
    [InlineData("structured_400x300.png", 64, 56, 56)] // 4.7x reduction: wide antialiasing support
    [InlineData("structured_400x300.png", 72, 60, 64)]
    public void MatchesPilResizePlusTorchvisionCropAndNormaliseBitForBit(string name, int resize, int cropHeight, int cropWidth)
    {
        var options = new PreprocessingOptions { ResizeShorterSide = resize, CropHeight = cropHeight, CropWidth = cropWidth };
        var loader = new ImageLoader(options);
        var tensor = loader.Load(ImageFixtures.Path(name));
        var expected = ImageFixtures.Npy($"{name}.pre_{resize}_{cropHeight}x{cropWidth}.npy");
        Assert.Equal([3, cropHeight, cropWidth], expected.Shape);
        // Lossless input, PIL's fixed-point resampler reproduced, float32 normalisation in torchvision's order: identical.
        Assert.Equal(expected.ToSingles(), tensor);
    }

    [Theory]
    [InlineData("structured_400x300.png", 56, 56)]  // 4:3 squeezed to a square, 7x and 5x reductions
    [InlineData("rgb8.png", 60, 40)]                // different scales per axis, one up one down
    public void StretchModeMatchesPilResizeOfTheWholeImageBitForBit(string name, int height, int width)
    {
        var options = new PreprocessingOptions { ResizeMode = ImageResizeMode.Stretch, CropHeight = height, CropWidth = width };
        var tensor = new ImageLoader(options).Load(ImageFixtures.Path(name));
        Assert.Equal(ImageFixtures.Npy($"{name}.stretch_{height}x{width}.npy").ToSingles(), tensor);
    }

    [Fact]
    public void JpegPipelineMatchesTheReferenceWithinTheDecoderTolerance()
    {
        var options = new PreprocessingOptions { ResizeShorterSide = 80, CropHeight = 72, CropWidth = 72 };
        var expected = ImageFixtures.Npy("baseline.jpg.pre_80_72x72.npy").ToSingles();
        var preprocessor = new ImagePreprocessor(options);

        // From PIL's own decoded pixels the resampler is exact ...
        var fromPilPixels = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(ImageFixtures.PilDecoded("baseline.jpg"), fromPilPixels);
        Assert.Equal(expected, fromPilPixels);

        // ... and from our decoder it can differ only by the JPEG decoders' difference (at most 2 levels).
        var fromFile = new ImageLoader(options).Load(ImageFixtures.Path("baseline.jpg"));
        var maxError = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(expected[i] - fromFile[i]));
        }
        Assert.True(maxError <= 2 * OneGreyLevel + 1e-6f, $"max error {maxError}");
    }

    [Fact]
    public void DefaultPipelineMatchesPilOn256And224()
    {
        var crop = ImageFixtures.Npy("structured_400x300.png.crop_256_224x224.u8.npy"); // PIL resize + crop, HWC uint8
        Assert.Equal([224, 224, 3], crop.Shape);
        var pixels = crop.ToDoubles();
        var tensor = new ImageLoader().Load(ImageFixtures.Path("structured_400x300.png"));
        Assert.Equal(3 * 224 * 224, tensor.Length);
        var mean = PreprocessingOptions.ImageNetMean;
        var std = PreprocessingOptions.ImageNetStd;
        for (var c = 0; c < 3; c++)
        {
            for (var p = 0; p < 224 * 224; p++)
            {
                // torchvision's ToTensor + Normalize on PIL's pixel, in float32.
                var expected = ((float)pixels[p * 3 + c] / 255f - mean[c]) / std[c];
                Assert.Equal(expected, tensor[c * 224 * 224 + p]);
            }
        }
    }

    [Fact]
    public void DownscalingAveragesInsteadOfAliasing()
    {
        // A one-pixel checkerboard reduced 8x: a point-sampling bilinear would return black or white
        // pixels; PIL's widened triangle filter (and ours) returns mid grey everywhere.
        var board = new RgbImage(512, 512);
        var pixels = board.Pixels;
        for (var y = 0; y < 512; y++)
        {
            for (var x = 0; x < 512; x++)
            {
                pixels.Slice((y * 512 + x) * 3, 3).Fill((x + y) % 2 == 0 ? (byte)255 : (byte)0);
            }
        }
        var options = new PreprocessingOptions { ResizeShorterSide = 64, CropWidth = 64, CropHeight = 64, Mean = new(0, 0, 0), Std = new(1, 1, 1) };
        var tensor = new float[options.TensorLength];
        new ImagePreprocessor(options).Preprocess(board, tensor);
        Assert.All(tensor, v => Assert.InRange(v, 126f / 255f, 129f / 255f));
    }

    [Theory]
    [InlineData(96, 72, 64, 85, 64)]
    [InlineData(72, 96, 64, 64, 85)]
    [InlineData(400, 300, 256, 341, 256)]
    [InlineData(300, 300, 256, 256, 256)]
    [InlineData(1, 1000, 256, 256, 256000)]
    [InlineData(999, 1000, 256, 256, 256)] // 256 * 1000 / 999 = 256.256..., truncated
    public void ResizedSizeFollowsTorchvision(int width, int height, int shorter, int expectedWidth, int expectedHeight)
    {
        Assert.Equal((expectedWidth, expectedHeight), ImagePreprocessor.ResizedSize(width, height, shorter));
    }

    [Theory]
    [InlineData(85, 56, 14)]  // round(14.5) = 14: Python rounds half to even
    [InlineData(87, 56, 16)]  // round(15.5) = 16
    [InlineData(256, 224, 16)]
    [InlineData(224, 224, 0)]
    [InlineData(40, 48, -4)]  // crop larger: padded by 4 before the image
    [InlineData(41, 48, -3)]  // torchvision pads (48 - 41) // 2 = 3 before, 4 after
    public void CropOffsetFollowsTorchvision(int size, int crop, int expected)
    {
        Assert.Equal(expected, ImagePreprocessor.CropOffset(size, crop));
    }

    [Fact]
    public void WritesOnlyItsOwnSliceOfABatch()
    {
        var loader = new ImageLoader(new PreprocessingOptions { ResizeShorterSide = 64, CropWidth = 56, CropHeight = 56 });
        var length = loader.TensorLength;
        Assert.Equal(3 * 56 * 56, length);
        Assert.Equal((3, 56, 56), loader.TensorShape);
        var batch = new float[3 * length];
        batch.AsSpan().Fill(float.NaN);
        loader.Load(ImageFixtures.Path("rgb8.png"), batch.AsSpan(length, length));
        Assert.All(batch.AsSpan(0, length).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(batch.AsSpan(2 * length).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(loader.Load(ImageFixtures.Path("rgb8.png")), batch.AsSpan(length, length).ToArray());

        // The same through the in-memory entry point, into another slice.
        loader.Load(ImageFixtures.Bytes("rgb8.png"), "rgb8", batch.AsSpan(2 * length, length));
        Assert.Equal(batch.AsSpan(length, length).ToArray(), batch.AsSpan(2 * length).ToArray());
    }

    [Fact]
    public void RejectsAWrongDestinationLengthAndBadOptions()
    {
        var preprocessor = new ImagePreprocessor();
        var image = new RgbImage(10, 10);
        Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(image, new float[preprocessor.TensorLength - 1]));
        Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(new RgbImage(), new float[preprocessor.TensorLength]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessor(new PreprocessingOptions { ResizeShorterSide = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessor(new PreprocessingOptions { CropWidth = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessor(new PreprocessingOptions { Std = new(0.2f, 0f, 0.2f) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessor(new PreprocessingOptions { Mean = new(float.NaN, 0, 0) }));
    }

    [Fact]
    public void AllocatesNothingPerImageOnceWarm()
    {
        var loader = new ImageLoader(new PreprocessingOptions { ResizeShorterSide = 64, CropWidth = 56, CropHeight = 56 });
        var bytes = ImageFixtures.Bytes("structured_400x300.png");
        var tensor = new float[loader.TensorLength];
        loader.Load(bytes, "warm", tensor);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 5; i++)
        {
            loader.Load(bytes, "again", tensor);
        }
        // SkiaSharp's managed wrappers (SKData, SKCodec, stream) cost a few hundred bytes; pixels cost 360 kB.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 5 * 8_000, $"{GC.GetAllocatedBytesForCurrentThread() - before} bytes");
    }
}
