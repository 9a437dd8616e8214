using AnomalyClustering.Core.Simd;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// The dense kernels of the patch embedder: zero-padded copy of a channel, the weighted sum of shifted planes,
/// planes-to-patch-rows transposition and the bilinear resize of patch rows.
/// </summary>
internal static class PlaneKernels
{
    /// <summary>Planes are computed in whole 256-bit vectors; lengths are rounded up to this.</summary>
    public const int VectorWidth = 8;

    /// <summary>Rounds <paramref name="length"/> up to whole vectors.</summary>
    public static int RoundUpToVector(int length) => (length + VectorWidth - 1) / VectorWidth * VectorWidth;

    /// <summary>
    /// Writes one channel (rows of <paramref name="width"/> at stride width) minus <paramref name="shift"/> into a
    /// zero-padded plane (<paramref name="padding"/> zeros on every side, row stride width + 2 padding). O(padded area).
    /// </summary>
    public static void CopyPadded(ReadOnlySpan<float> channel, int height, int width, int padding, float shift, Span<float> plane)
    {
        plane.Clear();
        var stride = width + 2 * padding;
        for (var y = 0; y < height; y++)
        {
            var source = channel.Slice(y * width, width);
            var target = plane.Slice((y + padding) * stride + padding, width);
            if (Vector256.IsHardwareAccelerated && width >= VectorWidth)
            {
                ref var s = ref MemoryMarshal.GetReference(source);
                ref var t = ref MemoryMarshal.GetReference(target);
                var vshift = Vector256.Create(shift);
                // The last vector may overlap the previous one; it writes the same values again.
                for (var x = 0; x < width; x += VectorWidth)
                {
                    var at = (nuint)Math.Min(x, width - VectorWidth);
                    (Vector256.LoadUnsafe(ref s, at) - vshift).StoreUnsafe(ref t, at);
                }
            }
            else
            {
                for (var x = 0; x < width; x++)
                {
                    target[x] = source[x] - shift;
                }
            }
        }
    }

    /// <summary>
    /// destination = scale * sum over terms i of weights[i] * padded[offsets[i] .. offsets[i] + destination.Length):
    /// one output channel as a weighted sum of shifted padded planes. Accumulates 8 vectors in registers per
    /// pass over the terms, so the destination is written once. O(terms x destination.Length).
    /// </summary>
    public static void WeightedShiftSum(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, float scale, Span<float> destination)
    {
        var n = destination.Length;
        var maxOffset = 0;
        foreach (var offset in offsets)
        {
            maxOffset = Math.Max(maxOffset, offset);
        }
        if (offsets.Length != weights.Length || n % VectorWidth != 0 || maxOffset + n > padded.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offsets), "A term reads outside the padded planes.");
        }
        if (!Vector256.IsHardwareAccelerated)
        {
            for (var term = 0; term < offsets.Length; term++)
            {
                var shifted = padded.Slice(offsets[term], n);
                if (term == 0)
                {
                    TensorPrimitives.Multiply(shifted, weights[term] * scale, destination);
                }
                else
                {
                    TensorPrimitives.MultiplyAddEstimate(shifted, weights[term] * scale, destination, destination);
                }
            }
            return;
        }

        ref var source = ref MemoryMarshal.GetReference(padded);
        ref var target = ref MemoryMarshal.GetReference(destination);
        var vscale = Vector256.Create(scale);
        var i = 0;
        for (; i + 8 * VectorWidth <= n; i += 8 * VectorWidth)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (var term = 0; term < offsets.Length; term++)
            {
                var w = Vector256.Create(weights[term]);
                ref var s = ref Unsafe.Add(ref source, offsets[term] + i);
                a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s), w, a0);
                a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 8), w, a1);
                a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 16), w, a2);
                a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 24), w, a3);
                a4 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 32), w, a4);
                a5 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 40), w, a5);
                a6 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 48), w, a6);
                a7 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 56), w, a7);
            }
            ref var d = ref Unsafe.Add(ref target, i);
            (a0 * vscale).StoreUnsafe(ref d);
            (a1 * vscale).StoreUnsafe(ref d, 8);
            (a2 * vscale).StoreUnsafe(ref d, 16);
            (a3 * vscale).StoreUnsafe(ref d, 24);
            (a4 * vscale).StoreUnsafe(ref d, 32);
            (a5 * vscale).StoreUnsafe(ref d, 40);
            (a6 * vscale).StoreUnsafe(ref d, 48);
            (a7 * vscale).StoreUnsafe(ref d, 56);
        }
        for (; i + 4 * VectorWidth <= n; i += 4 * VectorWidth)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var term = 0; term < offsets.Length; term++)
            {
                var w = Vector256.Create(weights[term]);
                ref var s = ref Unsafe.Add(ref source, offsets[term] + i);
                a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s), w, a0);
                a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 8), w, a1);
                a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 16), w, a2);
                a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref s, 24), w, a3);
            }
            ref var d = ref Unsafe.Add(ref target, i);
            (a0 * vscale).StoreUnsafe(ref d);
            (a1 * vscale).StoreUnsafe(ref d, 8);
            (a2 * vscale).StoreUnsafe(ref d, 16);
            (a3 * vscale).StoreUnsafe(ref d, 24);
        }
        for (; i < n; i += VectorWidth)
        {
            Vector256<float> a0 = default;
            for (var term = 0; term < offsets.Length; term++)
            {
                a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, (nuint)(offsets[term] + i)), Vector256.Create(weights[term]), a0);
            }
            (a0 * vscale).StoreUnsafe(ref target, (nuint)i);
        }
    }

    /// <summary>
    /// destination[(y*width + x)*destinationStride + q] = (or +=) planes[q*planeLength + y*rowStride + x] for q &lt; count:
    /// <paramref name="count"/> channel planes become the first count values of each patch row. Writes use 8 x 8 AVX
    /// blocks when count is a multiple of 8 and the grid at least 8 wide (a row's last block overlaps the previous);
    /// otherwise scalar. O(count x height x width).
    /// </summary>
    public static void ScatterPlanes(
        ReadOnlySpan<float> planes, int count, int planeLength, int rowStride, int height, int width,
        Span<float> destination, int destinationStride, bool add)
    {
        if ((count - 1) * planeLength + (height - 1) * rowStride + width > planes.Length
            || (height * width - 1) * destinationStride + count > destination.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Planes or destination are smaller than the shapes say.");
        }
        if (!Avx.IsSupported || add || count % VectorWidth != 0 || width < VectorWidth)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var patch = destination.Slice((y * width + x) * destinationStride, count);
                    var offset = y * rowStride + x;
                    for (var q = 0; q < patch.Length; q++)
                    {
                        var value = planes[q * planeLength + offset];
                        patch[q] = add ? patch[q] + value : value;
                    }
                }
            }
            return;
        }

        ref var source = ref MemoryMarshal.GetReference(planes);
        ref var target = ref MemoryMarshal.GetReference(destination);
        for (var y = 0; y < height; y++)
        {
            for (var xStart = 0; xStart < width; xStart += VectorWidth)
            {
                var x = Math.Min(xStart, width - VectorWidth);
                for (var q = 0; q < count; q += VectorWidth)
                {
                    SimdTranspose.Transpose8x8(
                        ref Unsafe.Add(ref source, q * planeLength + y * rowStride + x), (nuint)planeLength,
                        ref Unsafe.Add(ref target, (y * width + x) * destinationStride + q), (nuint)destinationStride);
                }
            }
        }
    }

    /// <summary>
    /// Bilinear resize of patch rows: source holds a sourceHeight x sourceWidth grid of rows of <paramref name="count"/>
    /// values (row stride count); destination row (Y*W + X), stride destinationStride, gets (or adds)
    /// l0(Y)*(m0(X)*s[y0,x0] + m1(X)*s[y0,x1]) + l1(Y)*(m0(X)*s[y1,x0] + m1(X)*s[y1,x1]), the order PyTorch evaluates.
    /// Vectorised over the count values when count is a multiple of 8. O(H x W x count).
    /// </summary>
    public static void ResizePatchRows(
        ReadOnlySpan<float> source, int count, int sourceWidth, BilinearAxis rows, BilinearAxis columns,
        Span<float> destination, int destinationStride, bool add)
    {
        var width = columns.OutputSize;
        if ((rows.OutputSize * width - 1) * destinationStride + count > destination.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), "Destination is smaller than the resized grid.");
        }
        for (var y = 0; y < rows.OutputSize; y++)
        {
            var row0 = rows.Index0[y] * sourceWidth;
            var row1 = rows.Index1[y] * sourceWidth;
            var l0 = rows.Lambda0[y];
            var l1 = rows.Lambda1[y];
            for (var x = 0; x < width; x++)
            {
                var m0 = columns.Lambda0[x];
                var m1 = columns.Lambda1[x];
                var s00 = source.Slice((row0 + columns.Index0[x]) * count, count);
                var s01 = source.Slice((row0 + columns.Index1[x]) * count, count);
                var s10 = source.Slice((row1 + columns.Index0[x]) * count, count);
                var s11 = source.Slice((row1 + columns.Index1[x]) * count, count);
                var target = destination.Slice((y * width + x) * destinationStride, count);
                var q = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var (vl0, vl1, vm0, vm1) = (Vector256.Create(l0), Vector256.Create(l1), Vector256.Create(m0), Vector256.Create(m1));
                    for (; q + VectorWidth <= count; q += VectorWidth)
                    {
                        var top = Vector256.Create(s00.Slice(q, VectorWidth)) * vm0 + Vector256.Create(s01.Slice(q, VectorWidth)) * vm1;
                        var bottom = Vector256.Create(s10.Slice(q, VectorWidth)) * vm0 + Vector256.Create(s11.Slice(q, VectorWidth)) * vm1;
                        var value = top * vl0 + bottom * vl1;
                        var slot = target.Slice(q, VectorWidth);
                        (add ? value + Vector256.Create<float>(slot) : value).CopyTo(slot);
                    }
                }
                for (; q < count; q++)
                {
                    var value = (s00[q] * m0 + s01[q] * m1) * l0 + (s10[q] * m0 + s11[q] * m1) * l1;
                    target[q] = add ? target[q] + value : value;
                }
            }
        }
    }
}
