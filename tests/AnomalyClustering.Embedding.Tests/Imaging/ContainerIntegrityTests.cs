using AnomalyClustering.Embedding.Imaging;

namespace AnomalyClustering.Embedding.Tests.Imaging;

public class ContainerIntegrityTests
{
    [Fact]
    public void FindsTheEndMarkerAndTheProgressiveFrame()
    {
        var baseline = ImageFixtures.Bytes("baseline.jpg");
        var progressive = ImageFixtures.Bytes("progressive.jpg");
        Assert.Equal(new ContainerIntegrity.JpegLayout(true, false), ContainerIntegrity.ScanJpeg(baseline));
        Assert.Equal(new ContainerIntegrity.JpegLayout(true, true), ContainerIntegrity.ScanJpeg(progressive));
        // The EXIF block of these files precedes the image; the walk must not stop inside it.
        Assert.True(ContainerIntegrity.ScanJpeg(ImageFixtures.Bytes("exif_orientation_6.jpg")).HasEndOfImage);
    }

    [Fact]
    public void AnyCutLosesTheEndMarker()
    {
        var progressive = ImageFixtures.Bytes("progressive.jpg");
        for (var length = 3; length < progressive.Length - 1; length += 13)
        {
            Assert.False(ContainerIntegrity.ScanJpeg(progressive.AsSpan(0, length)).HasEndOfImage, $"cut at {length}");
        }
        // Bytes after the end marker (a common trailer) do not matter.
        Assert.True(ContainerIntegrity.ScanJpeg([.. progressive, 0, 0, 0x12, 0xFF]).HasEndOfImage);
    }

    [Fact]
    public void ReadsTheWebpDeclaredLength()
    {
        var webp = ImageFixtures.Bytes("lossless.webp");
        Assert.Equal(webp.Length, ContainerIntegrity.WebpDeclaredLength(webp));
        Assert.Equal(-1, ContainerIntegrity.WebpDeclaredLength(webp.AsSpan(0, 7)));
    }
}
