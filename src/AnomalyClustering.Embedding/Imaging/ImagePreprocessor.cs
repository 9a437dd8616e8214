using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Turns an <see cref="RgbImage"/> into the backbone's NCHW float32 input, written into a caller-owned
/// span (so a batch tensor is filled in place): torchvision's Resize(shorter side, bilinear) on a PIL
/// image, CenterCrop, ToTensor and Normalize, reproduced exactly; or, in <see cref="ImageResizeMode.Stretch"/>
/// mode, PIL's resize of the whole image to the input size.
/// </summary>
/// <remarks>
/// The resize is PIL's 8-bit BILINEAR resample re-implemented (see <see cref="PilBilinearAxis"/>):
/// separable, horizontal pass then vertical, 22-bit fixed-point weights, each pass rounded to 8 bits
/// as PIL does, so the crop equals PIL's pixel for pixel. Only the pixels the crop keeps are resampled.
/// Normalisation uses a 256-entry table per channel holding (v / 255f - mean) / std computed in float32,
/// the same operations in the same order as torchvision, so the tensor matches to the last bit.
/// Cost: O(rows used x crop width x horizontal taps + crop pixels x vertical taps); thread-safe,
/// scratch from <see cref="ScratchArrays"/>.
/// </remarks>
public sealed class ImagePreprocessor
{
    private readonly float[] _normalised; // [channel * 256 + value]

    /// <summary>Creates a preprocessor (default <see cref="PreprocessingOptions.Default"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ImagePreprocessor(PreprocessingOptions? options = null)
    {
        Options = options ?? PreprocessingOptions.Default;
        Options.Validate();
        _normalised = new float[3 * 256];
        for (var c = 0; c < 3; c++)
        {
            for (var v = 0; v < 256; v++)
            {
                _normalised[c * 256 + v] = ((float)v / 255f - Options.Mean[c]) / Options.Std[c];
            }
        }
    }

    /// <summary>The sizes and statistics in force.</summary>
    public PreprocessingOptions Options { get; }

    /// <summary>Floats written per image: 3 x crop height x crop width.</summary>
    public int TensorLength => Options.TensorLength;

    /// <summary>
    /// The size torchvision's Resize(shorterSide) gives a width x height image: the shorter side becomes
    /// <paramref name="shorterSide"/>, the longer int(shorterSide * long / short).
    /// </summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int shorterSide)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shorterSide, 1);
        // Python's int * int / int: an exact product, one correctly rounded division, truncation.
        return width <= height
            ? (shorterSide, checked((int)((double)((long)shorterSide * height) / width)))
            : (checked((int)((double)((long)shorterSide * width) / height)), shorterSide);
    }

    /// <summary>
    /// Where the centre crop starts in a dimension of <paramref name="size"/>: torchvision's
    /// int(round((size - crop) / 2)) (round half to even); negative when the crop is larger and the
    /// image is zero-padded by (crop - size) / 2 before it.
    /// </summary>
    public static int CropOffset(int size, int crop) =>
        crop > size ? -((crop - size) / 2) : (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);

    /// <summary>Writes the preprocessed image, channel-major (C, H, W), into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not exactly <see cref="TensorLength"/> long.</exception>
    public void Preprocess(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length != TensorLength)
        {
            throw new ArgumentException($"destination has {destination.Length} floats; one {Options.CropHeight} x {Options.CropWidth} RGB tensor needs {TensorLength}", nameof(destination));
        }
        if (image.Width == 0 || image.Height == 0)
        {
            throw new ArgumentException("the image is empty (0 x 0); decode into it first", nameof(image));
        }
        var cropWidth = Options.CropWidth;
        var cropHeight = Options.CropHeight;
        var stretch = Options.ResizeMode == ImageResizeMode.Stretch;
        var (resizedWidth, resizedHeight) = stretch
            ? (cropWidth, cropHeight)
            : ResizedSize(image.Width, image.Height, Options.ResizeShorterSide);
        var left = stretch ? 0 : CropOffset(resizedWidth, cropWidth);
        var top = stretch ? 0 : CropOffset(resizedHeight, cropHeight);
        // Crop columns [x0, x1) and rows [y0, y1) fall inside the resized image; the rest is padding.
        var x0 = Math.Max(0, -left);
        var x1 = Math.Min(cropWidth, resizedWidth - left);
        var y0 = Math.Max(0, -top);
        var y1 = Math.Min(cropHeight, resizedHeight - top);
        if (x0 > 0 || y0 > 0 || x1 < cropWidth || y1 < cropHeight)
        {
            FillPadding(destination, cropWidth, cropHeight);
        }

        var columns = x1 - x0;
        var rows = y1 - y0;
        var kernelX = PilBilinearAxis.KernelSize(image.Width, resizedWidth);
        var kernelY = PilBilinearAxis.KernelSize(image.Height, resizedHeight);
        var ints = ScratchArrays.Rent<int>(2 * columns + columns * kernelX + 2 * rows + rows * kernelY + columns * 4);
        int[]? intermediate = null;
        try
        {
            var span = ints.AsSpan();
            var startsX = Take(ref span, columns);
            var tapsX = Take(ref span, columns);
            var weightsX = Take(ref span, columns * kernelX);
            var startsY = Take(ref span, rows);
            var tapsY = Take(ref span, rows);
            var weightsY = Take(ref span, rows * kernelY);
            var outputRow = Take(ref span, columns * 4);
            PilBilinearAxis.Compute(image.Width, resizedWidth, left + x0, columns, kernelX, startsX, tapsX, weightsX);
            PilBilinearAxis.Compute(image.Height, resizedHeight, top + y0, rows, kernelY, startsY, tapsY, weightsY);

            // Horizontal pass over the source rows the kept output rows read, into RGBX int rows.
            var firstRow = startsY[0];
            var lastRow = startsY[rows - 1] + tapsY[rows - 1];
            var stride = columns * 4;
            intermediate = ScratchArrays.Rent<int>((lastRow - firstRow) * stride);
            for (var r = firstRow; r < lastRow; r++)
            {
                ResampleRow(image.Buffer.AsSpan(r * image.Width * 3), startsX, tapsX, weightsX, kernelX,
                    intermediate.AsSpan((r - firstRow) * stride, stride));
            }

            // Vertical pass, then normalisation into the three planes.
            var plane = cropWidth * cropHeight;
            for (var i = 0; i < rows; i++)
            {
                ResampleColumnsInto(intermediate, stride, startsY[i] - firstRow, tapsY[i],
                    weightsY.Slice(i * kernelY, kernelY), outputRow);
                var offset = (y0 + i) * cropWidth + x0;
                var red = destination.Slice(offset, columns);
                var green = destination.Slice(plane + offset, columns);
                var blue = destination.Slice(2 * plane + offset, columns);
                for (var j = 0; j < columns; j++)
                {
                    red[j] = _normalised[outputRow[j * 4]];
                    green[j] = _normalised[256 + outputRow[j * 4 + 1]];
                    blue[j] = _normalised[512 + outputRow[j * 4 + 2]];
                }
            }
        }
        finally
        {
            ScratchArrays.Return(ints);
            if (intermediate is not null)
            {
                ScratchArrays.Return(intermediate);
            }
        }
    }

    private static Span<int> Take(ref Span<int> pool, int length)
    {
        var taken = pool[..length];
        pool = pool[length..];
        return taken;
    }

    /// <summary>Padding pixels are 0 before normalisation, as torchvision pads the PIL image with black.</summary>
    private void FillPadding(Span<float> destination, int cropWidth, int cropHeight)
    {
        var plane = cropWidth * cropHeight;
        for (var c = 0; c < 3; c++)
        {
            destination.Slice(c * plane, plane).Fill(_normalised[c * 256]);
        }
    }

    /// <summary>
    /// One source row (RGB bytes) to <c>starts.Length</c> output pixels (RGBX ints, 0..255): each
    /// pixel's three channels are one 4-lane vector, so a tap is one load, one multiply and one add.
    /// </summary>
    private static void ResampleRow(ReadOnlySpan<byte> source, ReadOnlySpan<int> starts, ReadOnlySpan<int> taps,
        ReadOnlySpan<int> weights, int kernelSize, Span<int> output)
    {
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(output);
        var bias = Vector128.Create(PilBilinearAxis.RoundingBias);
        var max = Vector128.Create(255);
        for (var j = 0; j < starts.Length; j++)
        {
            var acc = bias;
            var k = weights.Slice(j * kernelSize, taps[j]);
            var s = starts[j] * 3;
            for (var t = 0; t < k.Length; t++, s += 3)
            {
                // Four bytes R, G, B and the next pixel's R (the image keeps a slack byte after its last pixel).
                var packed = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, s));
                var pixel = Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(packed).AsByte())).AsInt32();
                acc += pixel * Vector128.Create(k[t]);
            }
            acc = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(acc, PilBilinearAxis.PrecisionBits), Vector128<int>.Zero), max);
            acc.StoreUnsafe(ref dst, (nuint)(j * 4));
        }
    }

    /// <summary>One output row: a weighted sum of <paramref name="tapCount"/> consecutive intermediate rows, rounded and clipped to 0..255.</summary>
    private static void ResampleColumnsInto(int[] intermediate, int stride, int firstRow, int tapCount,
        ReadOnlySpan<int> weights, Span<int> output)
    {
        ref var rows = ref MemoryArrayStart(intermediate, firstRow * stride);
        ref var dst = ref MemoryMarshal.GetReference(output);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var bias = Vector256.Create(PilBilinearAxis.RoundingBias);
            var max = Vector256.Create(255);
            for (; i + Vector256<int>.Count <= stride; i += Vector256<int>.Count)
            {
                var acc = bias;
                for (var t = 0; t < tapCount; t++)
                {
                    acc += Vector256.LoadUnsafe(ref rows, (nuint)(t * stride + i)) * Vector256.Create(weights[t]);
                }
                acc = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(acc, PilBilinearAxis.PrecisionBits), Vector256<int>.Zero), max);
                acc.StoreUnsafe(ref dst, (nuint)i);
            }
        }
        // The row holds whole pixels of 4 ints, so the rest is a multiple of 4.
        var bias128 = Vector128.Create(PilBilinearAxis.RoundingBias);
        var max128 = Vector128.Create(255);
        for (; i < stride; i += Vector128<int>.Count)
        {
            var acc = bias128;
            for (var t = 0; t < tapCount; t++)
            {
                acc += Vector128.LoadUnsafe(ref rows, (nuint)(t * stride + i)) * Vector128.Create(weights[t]);
            }
            acc = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(acc, PilBilinearAxis.PrecisionBits), Vector128<int>.Zero), max128);
            acc.StoreUnsafe(ref dst, (nuint)i);
        }
    }

    private static ref int MemoryArrayStart(int[] array, int index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index);
}
