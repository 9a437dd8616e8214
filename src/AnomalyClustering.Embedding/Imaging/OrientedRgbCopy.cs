using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SkiaSharp;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Turns the decoder's RGBA rows into the RGB image, dropping alpha (as PIL's convert("RGB") does:
/// no compositing) and applying an EXIF orientation in the same pass. O(pixels), no allocation.
/// </summary>
internal static class OrientedRgbCopy
{
    /// <summary>The displayed size: the two sides swap for the four orientations that transpose.</summary>
    public static (int Width, int Height) OrientedSize(int width, int height, SKEncodedOrigin origin) =>
        Transposes(origin) ? (height, width) : (width, height);

    /// <summary>Copies <paramref name="rgba"/> (width x height, 4 bytes a pixel) into <paramref name="rgb"/> as displayed.</summary>
    public static void Copy(ReadOnlySpan<byte> rgba, int width, int height, SKEncodedOrigin origin, Span<byte> rgb)
    {
        if (origin is SKEncodedOrigin.TopLeft)
        {
            StripAlpha(rgba[..(width * height * 4)], rgb[..(width * height * 3)]);
            return;
        }
        var (outWidth, outHeight) = OrientedSize(width, height, origin);
        var src = MemoryMarshal.Cast<byte, uint>(rgba);
        for (var oy = 0; oy < outHeight; oy++)
        {
            // Source pixel index of output (ox, oy) is rowStart + ox * step.
            var (rowStart, step) = origin switch
            {
                SKEncodedOrigin.TopRight => (oy * width + width - 1, -1),
                SKEncodedOrigin.BottomRight => ((height - 1 - oy) * width + width - 1, -1),
                SKEncodedOrigin.BottomLeft => ((height - 1 - oy) * width, 1),
                SKEncodedOrigin.LeftTop => (oy, width),
                SKEncodedOrigin.RightTop => ((height - 1) * width + oy, -width),
                SKEncodedOrigin.RightBottom => ((height - 1) * width + width - 1 - oy, -width),
                SKEncodedOrigin.LeftBottom => (width - 1 - oy, width),
                _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "unknown EXIF orientation"),
            };
            var row = rgb.Slice(oy * outWidth * 3, outWidth * 3);
            var s = rowStart;
            for (var ox = 0; ox < outWidth; ox++, s += step)
            {
                var pixel = src[s];
                row[ox * 3] = (byte)pixel;
                row[ox * 3 + 1] = (byte)(pixel >> 8);
                row[ox * 3 + 2] = (byte)(pixel >> 16);
            }
        }
    }

    private static bool Transposes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>RGBA to RGB, four pixels per 16-byte shuffle.</summary>
    private static void StripAlpha(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        var pixels = rgba.Length / 4;
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var shuffle = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80);
            ref var src = ref MemoryMarshal.GetReference(rgba);
            ref var dst = ref MemoryMarshal.GetReference(rgb);
            // Each store writes 16 bytes of which 12 are kept; stop while 4 spare bytes remain after it.
            for (; i + 4 <= pixels && (i + 4) * 3 + 4 <= rgb.Length; i += 4)
            {
                var block = Vector128.LoadUnsafe(ref src, (nuint)(i * 4));
                Vector128.Shuffle(block, shuffle).StoreUnsafe(ref dst, (nuint)(i * 3));
            }
        }
        for (; i < pixels; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[i * 3 + 1] = rgba[i * 4 + 1];
            rgb[i * 3 + 2] = rgba[i * 4 + 2];
        }
    }
}
