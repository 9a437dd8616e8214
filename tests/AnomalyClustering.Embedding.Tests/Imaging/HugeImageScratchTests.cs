using System.Buffers;
using AnomalyClustering.Embedding.Imaging;
using SkiaSharp;

namespace AnomalyClustering.Embedding.Tests.Imaging;

/// <summary>Heap measurements: alone, so that no other test's allocations land between the two readings.</summary>
[CollectionDefinition(nameof(HeapMeasurements), DisableParallelization = true)]
public sealed class HeapMeasurements;

/// <summary>
/// A huge image's decoding scratch is not kept after it (issue #15: a worker's memory comes back after huge images):
/// arrays over <see cref="ScratchArrays.PooledLimitBytes"/> are not pooled, while <see cref="ArrayPool{T}.Shared"/>, which
/// the decoders used before, keeps them.
/// </summary>
[Collection(nameof(HeapMeasurements))]
public sealed class HugeImageScratchTests
{
    private const int HugeSide = 6000;

    // Far below the 144 MB RGBA scratch and 36 MB resampling rows of a 6000 x 6000 image, far above the heap's own noise.
    private const long RetainedLimitBytes = 48L * 1024 * 1024;

    [Fact]
    public void SmallScratchIsPooledAndHugeScratchIsNot()
    {
        var huge = (int)(4 * ScratchArrays.PooledLimitBytes);
        // The premise: the shared pool hands the same huge array back, so it holds it between calls.
        var shared = ArrayPool<byte>.Shared.Rent(huge);
        ArrayPool<byte>.Shared.Return(shared);
        Assert.Same(shared, ArrayPool<byte>.Shared.Rent(huge));

        var small = ScratchArrays.Rent<byte>(4096);
        ScratchArrays.Return(small);
        Assert.Same(small, ScratchArrays.Rent<byte>(4096));

        var first = ScratchArrays.Rent<byte>(huge);
        ScratchArrays.Return(first);
        Assert.NotSame(first, ScratchArrays.Rent<byte>(huge));
        Assert.NotSame(shared, ScratchArrays.Rent<byte>(huge));
        var ints = ScratchArrays.Rent<int>(huge / 4 + 1);
        ScratchArrays.Return(ints);
        Assert.NotSame(ints, ScratchArrays.Rent<int>(huge / 4 + 1));
    }

    [Fact]
    public void DecodingAHugeImageLeavesNoScratchOnTheHeap()
    {
        var encoded = HugePng();
        var tensor = new float[new ImageLoader().TensorLength];
        // A first small decode warms up what is kept on purpose (codec tables, pooled small scratch).
        Load(SmallPng(), tensor);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        Load(encoded, tensor);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"managed heap after decoding a {HugeSide} x {HugeSide} PNG: {(after - before) / 1e6:F1} MB more than before (process working set {Environment.WorkingSet / 1e6:F0} MB)");
        Assert.True(after - before < RetainedLimitBytes,
            $"the heap holds {(after - before) / 1e6:F0} MB more after decoding one {HugeSide} x {HugeSide} image; its scratch was kept");
        Assert.Contains(tensor, value => value != 0);
    }

    // Its own frame: the loader and its decoded image are unreachable once it returns, as in a worker between images.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Load(byte[] encoded, float[] tensor) => new ImageLoader().Load(encoded, "image.png", tensor);

    private static byte[] HugePng() => Png(HugeSide);

    private static byte[] SmallPng() => Png(64);

    private static byte[] Png(int side)
    {
        using var bitmap = new SKBitmap(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(90, 120, 150));
            using var paint = new SKPaint { Color = new SKColor(200, 40, 40) };
            canvas.DrawRect(side / 4f, side / 4f, side / 2f, side / 2f, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
