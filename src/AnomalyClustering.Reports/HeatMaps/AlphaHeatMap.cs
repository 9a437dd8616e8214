using AnomalyClustering.Core.Embeddings;
using System.Numerics.Tensors;

namespace AnomalyClustering.Reports.HeatMaps;

/// <summary>
/// Turns an image's patch weights alpha (an H x W grid, METHOD section 2) into a heat map over its thumbnail: bilinear
/// upsampling to the thumbnail's size with PyTorch's <c>align_corners = false</c> geometry (the same as the embedder's
/// resize of the coarser feature map), scaled to [0, 1] between the image's smallest and largest weight, coloured with
/// <see cref="InfernoColorMap"/> and blended over the pixels.
/// </summary>
/// <remarks>O(outputHeight x outputWidth) time, O(outputHeight + outputWidth) extra memory.</remarks>
public static class AlphaHeatMap
{
    /// <summary>How much of a heat-map pixel is the colour map (the rest is the image).</summary>
    public const float Opacity = 0.5f;

    /// <summary>
    /// Bilinear resize of a row-major <paramref name="gridHeight"/> x <paramref name="gridWidth"/> grid to
    /// <paramref name="outputHeight"/> x <paramref name="outputWidth"/> (PyTorch <c>F.interpolate(mode="bilinear",
    /// align_corners=False)</c>: source = (o + 0.5) * in / out - 0.5, clamped at 0; the last row and column repeat).
    /// </summary>
    /// <exception cref="ArgumentException">A size below 1 or spans of the wrong length.</exception>
    public static void Upsample(ReadOnlySpan<float> grid, int gridHeight, int gridWidth, Span<float> output, int outputHeight, int outputWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gridHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputWidth, 1);
        if (grid.Length != gridHeight * gridWidth)
        {
            throw new ArgumentException($"the grid has {grid.Length} values, not {gridHeight} x {gridWidth}.", nameof(grid));
        }
        if (output.Length != outputHeight * outputWidth)
        {
            throw new ArgumentException($"the output has {output.Length} values, not {outputHeight} x {outputWidth}.", nameof(output));
        }
        var rows = BilinearAxis.Create(gridHeight, outputHeight);
        var columns = BilinearAxis.Create(gridWidth, outputWidth);
        var (columns0, columns1, columnWeights) = (columns.Index0, columns.Index1, columns.Lambda1);
        for (var y = 0; y < outputHeight; y++)
        {
            var top = grid.Slice(rows.Index0[y] * gridWidth, gridWidth);
            var bottom = grid.Slice(rows.Index1[y] * gridWidth, gridWidth);
            var wy = rows.Lambda1[y];
            var row = output.Slice(y * outputWidth, outputWidth);
            for (var x = 0; x < outputWidth; x++)
            {
                var wx = columnWeights[x];
                var upper = (1f - wx) * top[columns0[x]] + wx * top[columns1[x]];
                var lower = (1f - wx) * bottom[columns0[x]] + wx * bottom[columns1[x]];
                row[x] = (1f - wy) * upper + wy * lower;
            }
        }
    }

    /// <summary>
    /// Scales <paramref name="values"/> in place to [0, 1] between their minimum and maximum; all zeros when they are
    /// (nearly) equal, as uniform weights (average mode) are: nothing stands out.
    /// </summary>
    public static void Normalize(Span<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }
        var min = TensorPrimitives.Min(values);
        var max = TensorPrimitives.Max(values);
        var range = max - min;
        if (!(range > 1e-6f * MathF.Max(MathF.Abs(max), float.Epsilon)))
        {
            values.Clear();
            return;
        }
        TensorPrimitives.Subtract(values, min, values);
        TensorPrimitives.Multiply(values, 1f / range, values);
    }

    /// <summary>
    /// Blends the colour of each normalised heat value over interleaved RGBA pixels (alpha channel untouched):
    /// pixel = (1 - <see cref="Opacity"/>) x pixel + <see cref="Opacity"/> x inferno(heat).
    /// </summary>
    /// <exception cref="ArgumentException">The pixel span is not 4 bytes per heat value.</exception>
    public static void BlendOver(Span<byte> rgba, ReadOnlySpan<float> heat)
    {
        if (rgba.Length != 4 * heat.Length)
        {
            throw new ArgumentException($"{rgba.Length} RGBA bytes for {heat.Length} heat values; expected 4 per value.", nameof(rgba));
        }
        for (var i = 0; i < heat.Length; i++)
        {
            var (r, g, b) = InfernoColorMap.Of(heat[i]);
            var pixel = rgba.Slice(4 * i, 4);
            pixel[0] = Mix(pixel[0], r);
            pixel[1] = Mix(pixel[1], g);
            pixel[2] = Mix(pixel[2], b);
        }
    }

    private static byte Mix(byte image, byte colour) => (byte)MathF.Round((1f - Opacity) * image + Opacity * colour);
}
