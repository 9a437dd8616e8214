using SkiaSharp;

namespace AnomalyClustering.Embedding.Tests.Pipeline;

/// <summary>A folder of tiny painted images for pipeline tests: plain noisy plates, and plates with a dark disc.</summary>
internal sealed class PipelineTestImages : IDisposable
{
    public PipelineTestImages()
    {
        Folder = Path.Combine(Path.GetTempPath(), "anomaly-pipeline-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>Writes a 96 x 96 PNG: grey noise, with a dark disc when <paramref name="withDisc"/>.</summary>
    public string Plate(string name, bool withDisc, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(96, 96, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < 96; y++)
        {
            for (var x = 0; x < 96; x++)
            {
                var level = (byte)(140 + random.Next(-12, 13));
                bitmap.SetPixel(x, y, new SKColor(level, level, level));
            }
        }
        if (withDisc)
        {
            using var canvas = new SKCanvas(bitmap);
            using var paint = new SKPaint { IsAntialias = true, Color = new SKColor(20, 20, 20) };
            canvas.DrawCircle(30 + random.Next(36), 30 + random.Next(36), 9, paint);
        }
        var path = Path.Combine(Folder, name);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
