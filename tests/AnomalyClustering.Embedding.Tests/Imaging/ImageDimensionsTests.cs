using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Testing.Imaging;
using BitMiracle.LibTiff.Classic;

namespace AnomalyClustering.Embedding.Tests.Imaging;

/// <summary>
/// <see cref="ImageDecoder.ReadDimensions"/>: the size a header declares, read without decoding (what a worker reserves its
/// pixel budget by), the same as the decoded image's; null for what is not a readable image.
/// </summary>
public sealed class ImageDimensionsTests
{
    [Fact]
    public void PngAndTiffHeadersGiveTheDecodedSize()
    {
        var png = CameraImageFiles.GreyPng16(37, 23, (x, y) => (ushort)(x * y));
        Assert.Equal((37, 23), ImageDecoder.ReadDimensions(png));
        var tiff = CameraImageFiles.Tiff(64, 48, 8, 3, (x, y, c) => (x + y + c) % 256, photometric: Photometric.RGB);
        Assert.Equal((64, 48), ImageDecoder.ReadDimensions(tiff));
        var decoded = new ImageDecoder().Decode(tiff, "rgb.tif");
        Assert.Equal((decoded.Width, decoded.Height), ImageDecoder.ReadDimensions(tiff));
    }

    [Fact]
    public void WhatIsNoReadableImageHasNoDimensions()
    {
        Assert.Null(ImageDecoder.ReadDimensions([]));
        Assert.Null(ImageDecoder.ReadDimensions("not a picture at all"u8));
        var png = CameraImageFiles.GreyPng16(8, 8, (x, y) => 0);
        Assert.Null(ImageDecoder.ReadDimensions(png.AsSpan(0, 12)));
        var tiff = CameraImageFiles.Tiff(8, 8, 8, 1, (x, y, c) => 0);
        Assert.Null(ImageDecoder.ReadDimensions(tiff.AsSpan(0, 6)));
    }
}
