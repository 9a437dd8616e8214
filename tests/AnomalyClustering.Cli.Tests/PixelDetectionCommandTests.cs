using System.Globalization;
using SkiaSharp;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// Pixel AUROC and PRO through <c>eval</c> and <c>cluster</c> on a small MVTec-layout folder with <c>ground_truth/</c> masks:
/// the figures reach eval.csv, eval.md, the console and result.json; a folder with a missing mask says so and has none.
/// </summary>
public sealed class PixelDetectionCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64"];

    [Fact]
    public void EvalWritesPixelAurocAndProFromTheMasks()
    {
        using var folder = new TempFolder();
        var root = folder.Combine("tiles");
        var regions = WriteDataset(root);
        var output = folder.Combine("eval");

        var run = CliRun.InProcess(["eval", root, "--modes", "semi-supervised", "unsupervised", "-o", output, "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(output, "eval.csv"));
        Assert.EndsWith(",image_auroc,pixel_auroc,pro", rows[0], StringComparison.Ordinal);
        Assert.Contains("| image AUROC | pixel AUROC | PRO |", File.ReadAllText(Path.Combine(output, "eval.md")), StringComparison.Ordinal);
        Assert.Contains("pixel AUROC", run.Output, StringComparison.Ordinal);
        foreach (var job in rows.Skip(1).Select(line => line.Split(',')))
        {
            using var result = ResultJson.Load(Path.Combine(output, "tiles", $"{job[2]}-tau0.3"));
            var detection = result.Root.GetProperty("detection");
            var pixelAuroc = double.Parse(job[15], CultureInfo.InvariantCulture);
            var pro = double.Parse(job[16], CultureInfo.InvariantCulture);
            Assert.Equal(detection.GetProperty("pixelAuroc").GetDouble(), pixelAuroc);
            Assert.Equal(detection.GetProperty("pro").GetDouble(), pro);
            Assert.Equal(0.3, detection.GetProperty("proIntegrationLimit").GetDouble());
            // Every image is pooled at its own (mask) size; every painted spot is one 8-connected region.
            Assert.Equal(14, detection.GetProperty("pixelImages").GetInt32());
            Assert.Equal(14L * Height * Width, detection.GetProperty("pixels").GetInt64());
            Assert.Equal(regions, detection.GetProperty("defectRegions").GetInt32());
            // Bright and dark spots on plain noise: the patch-score maps find them far better than chance.
            Assert.InRange(pixelAuroc, 0.75, 1.0);
            Assert.InRange(pro, 0.0, 1.0);
            // The figures survive reading the result folder back (report re-renders from it).
            Assert.Equal(pixelAuroc, result.Result.PixelDetection!.PixelAuroc);
        }
    }

    [Fact]
    public void AMissingMaskIsReportedAndLeavesThePixelMetricsOut()
    {
        using var folder = new TempFolder();
        var root = folder.Combine("tiles");
        WriteDataset(root);
        File.Delete(Directory.EnumerateFiles(Path.Combine(root, "ground_truth", "spot")).First());

        var run = CliRun.InProcess(["cluster", root, "--mode", "semi-supervised", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains("1 defective images have no mask in ground_truth/<class>/", run.Output, StringComparison.Ordinal);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.False(result.Root.GetProperty("detection").TryGetProperty("pixelAuroc", out _));
        Assert.Equal("mask-unusable", Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray()).GetProperty("code").GetString());
    }

    [Fact]
    public void AMaskThatIsNotAnImageLeavesItsImageOutOfThePixelMetricsAndTheResultIsWritten()
    {
        using var folder = new TempFolder();
        var root = folder.Combine("tiles");
        WriteDataset(root);
        var junk = Directory.EnumerateFiles(Path.Combine(root, "ground_truth", "spot")).Order(StringComparer.Ordinal).First();
        File.WriteAllText(junk, "junk\n");

        var run = CliRun.InProcess(["cluster", root, "--mode", "semi-supervised", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var output = string.Join(' ', run.Output.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"mask '{junk}' is unusable (not an image), so image 'test/spot/", output, StringComparison.Ordinal);
        Assert.Contains("is left out of the pixel metrics", output, StringComparison.Ordinal);
        using var result = ResultJson.Load(folder.Combine("out"));
        // All 14 images are clustered; the one whose mask is junk is only missing from the pixel pool.
        Assert.Equal(14, ResultJson.ClustersCsv(folder.Combine("out")).Count);
        Assert.Empty(result.Errors);
        var detection = result.Root.GetProperty("detection");
        Assert.Equal(13, detection.GetProperty("pixelImages").GetInt32());
        Assert.Equal(13L * Height * Width, detection.GetProperty("pixels").GetInt64());
        // Said once, with the run's other warnings, and kept with the result.
        var warning = Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray());
        Assert.Equal("mask-unusable", warning.GetProperty("code").GetString());
        Assert.StartsWith($"mask '{junk}' is unusable (not an image)", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("warning: mask '", output, StringComparison.Ordinal);
    }

    private const int Height = 48;
    private const int Width = 80;

    /// <summary>
    /// An MVTec-layout folder of 48 x 80 noise tiles: test/good (4), test/spot (5: a bright disc each, masks named as magnetic
    /// tile's, name.png), test/bar (5: a dark bar each, masks named as MVTec AD's, name_mask.png), train/good (6). Returns the
    /// number of painted regions.
    /// </summary>
    private static int WriteDataset(string root)
    {
        var random = new Random(5);
        var regions = 0;
        for (var i = 0; i < 6; i++)
        {
            using var tile = Tile(random, null);
            Write(Path.Combine(root, "train", "good", $"n{i}.png"), tile);
        }
        for (var i = 0; i < 4; i++)
        {
            using var tile = Tile(random, null);
            Write(Path.Combine(root, "test", "good", $"g{i}.png"), tile);
        }
        foreach (var (kind, maskSuffix) in new[] { ("spot", ""), ("bar", "_mask") })
        {
            for (var i = 0; i < 5; i++)
            {
                var shape = kind == "spot"
                    ? new SKRect(10 + (7 * i), 12, 26 + (7 * i), 28)
                    : new SKRect(8, 6 + (6 * i), 70, 14 + (6 * i));
                using var tile = Tile(random, (shape, kind == "spot" ? SKColors.White : SKColors.Black));
                Write(Path.Combine(root, "test", kind, $"{kind}{i}.png"), tile);
                using var mask = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Gray8, SKAlphaType.Opaque));
                using (var canvas = new SKCanvas(mask))
                {
                    canvas.Clear(SKColors.Black);
                    Paint(canvas, shape, SKColors.White);
                }
                Write(Path.Combine(root, "ground_truth", kind, $"{kind}{i}{maskSuffix}.png"), mask);
                regions++;
            }
        }
        return regions;
    }

    private static SKBitmap Tile(Random random, (SKRect Shape, SKColor Colour)? defect)
    {
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var v = (byte)(110 + random.Next(40));
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        }
        if (defect is { } d)
        {
            using var canvas = new SKCanvas(bitmap);
            Paint(canvas, d.Shape, d.Colour);
        }
        return bitmap;
    }

    private static void Paint(SKCanvas canvas, SKRect shape, SKColor colour)
    {
        using var paint = new SKPaint { Color = colour, IsAntialias = false, Style = SKPaintStyle.Fill };
        canvas.DrawOval(shape, paint);
    }

    private static void Write(string path, SKBitmap bitmap)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
