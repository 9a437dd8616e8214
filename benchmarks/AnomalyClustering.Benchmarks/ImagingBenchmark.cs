using System.Diagnostics;
using System.Globalization;
using AnomalyClustering.Embedding.Imaging;
using SkiaSharp;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Decode + preprocess time per image for a 512 x 512 JPEG (quality 90) through the reference pipeline
/// (shorter side 256, crop 224). Arguments: [iterations=200] [size=512].
/// Python counterpart: benchmarks/reference/imaging.py (PIL + numpy).
/// </summary>
internal sealed class ImagingBenchmark : IBenchmark
{
    public string Name => "imaging";

    public string Description => "decode + preprocess a 512x512 JPEG to a 3x224x224 tensor (ms per image)";

    public void Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var size = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 512;
        var jpeg = SyntheticJpeg(size, quality: 90);
        var path = Path.Combine(Path.GetTempPath(), $"anomaly-clustering-bench-{Environment.ProcessId}.jpg");
        File.WriteAllBytes(path, jpeg);
        try
        {
            var loader = new ImageLoader();
            var decoder = loader.Decoder;
            var preprocessor = loader.Preprocessor;
            var image = new RgbImage();
            var tensor = new float[loader.TensorLength];
            Console.WriteLine($"{size}x{size} JPEG, {jpeg.Length / 1024.0:F0} KiB, {iterations} iterations, {Environment.ProcessorCount} cores, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}");

            Report("decode (bytes -> RGB)", iterations, () => decoder.Decode(jpeg, "bench", image));
            Report("preprocess (RGB -> 3x224x224)", iterations, () => preprocessor.Preprocess(image, tensor));
            Report("load from bytes (both)", iterations, () => loader.Load(jpeg, "bench", tensor));
            Report("load from file (read + both)", iterations, () => loader.Load(path, tensor));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Report(string what, int iterations, Action action)
    {
        for (var i = 0; i < Math.Max(10, iterations / 10); i++)
        {
            action();
        }
        var times = new double[iterations];
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / iterations;
        Array.Sort(times);
        Console.WriteLine($"  {what,-32} median {times[iterations / 2],7:F3} ms   p10 {times[iterations / 10],7:F3}   p90 {times[iterations * 9 / 10],7:F3}   {allocated,6} B allocated/image");
    }

    /// <summary>A photo-like test image (gradients, shapes, mild seeded noise), JPEG-encoded by Skia.</summary>
    private static byte[] SyntheticJpeg(int size, int quality)
    {
        var random = new Random(1234);
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var r = 255.0 * x / size;
                var g = 128 + 100 * Math.Sin(x / 17.0) * Math.Cos(y / 23.0);
                var b = 255.0 * y / size;
                if ((x - size / 3) * (x - size / 3) + (y - size / 2) * (y - size / 2) < size * size / 25)
                {
                    (r, g, b) = (230, 40, 30);
                }
                var n = random.Next(-12, 13);
                bitmap.SetPixel(x, y, new SKColor(Clamp(r + n), Clamp(g + n), Clamp(b + n)));
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static byte Clamp(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
