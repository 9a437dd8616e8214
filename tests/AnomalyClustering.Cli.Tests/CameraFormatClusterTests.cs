using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Testing.Imaging;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// cluster on a folder as a line's cameras fill it: TIFF (8-bit RGB, 16-bit grey) and 16-bit greyscale PNG are clustered;
/// files of a kind the decoder does not read are listed as left out with their reason, in result.json and on the console.
/// </summary>
public sealed class CameraFormatClusterTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

    [Fact]
    public void TiffAndSixteenBitPngAreClusteredAndAnUnsupportedFileIsListedWithItsReason()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        Directory.CreateDirectory(images);
        var decoder = new ImageDecoder();
        for (var i = 0; i < 3; i++)
        {
            // Painted like the demo's plates, then written as the camera formats.
            var good = decoder.Decode(SyntheticSurfacePainter.PaintPng(DefectType.Good, new Random(100 + i)), "good");
            var hole = decoder.Decode(SyntheticSurfacePainter.PaintPng(DefectType.Hole, new Random(200 + i)), "hole");
            File.WriteAllBytes(Path.Combine(images, $"good_{i}.tif"), CameraImageFiles.Tiff(good.Width, good.Height, 8, 3, (x, y, c) => good.Pixels[(y * good.Width + x) * 3 + c]));
            File.WriteAllBytes(Path.Combine(images, $"hole_{i}.tiff"), CameraImageFiles.Tiff(hole.Width, hole.Height, 16, 1, (x, y, _) => Grey(hole, x, y) * 257));
            File.WriteAllBytes(Path.Combine(images, $"hole_{i}.png"), CameraImageFiles.GreyPng16(hole.Width, hole.Height, (x, y) => (ushort)(Grey(hole, x, y) * 257)));
        }
        folder.Write([.. "8BPS"u8, 0, 1, .. new byte[26]], "images", "layers.psd");
        folder.WriteText("camera 7, shift 2", "images", "notes.txt");

        var run = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = ResultJson.ClustersCsv(folder.Combine("out"));
        Assert.Equal(9, rows.Count);
        Assert.Equal(3, rows.Count(row => row.Image.EndsWith(".tif", StringComparison.Ordinal)));
        Assert.Equal(3, rows.Count(row => row.Image.EndsWith(".tiff", StringComparison.Ordinal)));
        Assert.Equal(3, rows.Count(row => row.Image.EndsWith(".png", StringComparison.Ordinal)));

        using var result = ResultJson.Load(folder.Combine("out"));
        var errors = result.Errors.ToDictionary(e => e.GetProperty("id").GetString()!, e => e);
        Assert.Equal(["layers.psd", "notes.txt"], errors.Keys.Order());
        Assert.Equal("unsupported-format", errors["layers.psd"].GetProperty("reason").GetString());
        Assert.Contains("Photoshop PSD images are not supported", errors["layers.psd"].GetProperty("message").GetString());
        Assert.Equal("not-an-image", errors["notes.txt"].GetProperty("reason").GetString());

        // On the console too, each by name with its reason.
        Assert.Contains("2 image(s) could not be used", run.Output);
        Assert.Contains("left out layers.psd (unsupported-format)", run.Output);
        Assert.Contains("left out notes.txt (not-an-image)", run.Output);
    }

    private static int Grey(RgbImage image, int x, int y)
    {
        var pixel = image.Pixels.Slice((y * image.Width + x) * 3, 3);
        return (pixel[0] * 299 + pixel[1] * 587 + pixel[2] * 114) / 1000;
    }
}
