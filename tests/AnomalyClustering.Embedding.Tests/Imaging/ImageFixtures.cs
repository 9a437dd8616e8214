using AnomalyClustering.Core.Interop;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Embedding.Tests.Imaging;

/// <summary>Access to tests/fixtures/images (written by tools/fixtures/gen_images.py).</summary>
internal static class ImageFixtures
{
    public static string Path(string name) => TestPaths.Fixture("images", name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public static NpyArray Npy(string name) => NpyArray.Parse(File.ReadAllBytes(Path(name)));

    /// <summary>A PIL-decoded (H, W, 3) uint8 array as an <see cref="RgbImage"/>.</summary>
    public static RgbImage PilDecoded(string imageName)
    {
        var npy = Npy(imageName + ".rgb.npy");
        Assert.Equal("|u1", npy.DType);
        Assert.Equal(3, npy.Shape[2]);
        var bytes = Array.ConvertAll(npy.ToDoubles(), v => (byte)v);
        return RgbImage.FromPixels(npy.Shape[1], npy.Shape[0], bytes);
    }

    /// <summary>Largest and mean absolute per-channel difference between two images of equal size.</summary>
    public static (int Max, double Mean) Difference(RgbImage actual, RgbImage expected)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        var a = actual.Pixels;
        var e = expected.Pixels;
        var max = 0;
        long sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs(a[i] - e[i]);
            max = Math.Max(max, d);
            sum += d;
        }
        return (max, (double)sum / a.Length);
    }
}
