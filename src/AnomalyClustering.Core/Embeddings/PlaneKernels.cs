using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Embeddings;

/// <summary>The small dense kernels of the patch embedder: bilinear resize of one plane and the planes-to-patches transpose.</summary>
internal static class PlaneKernels
{
    /// <summary>
    /// Resizes one plane (<paramref name="sourceRows"/> rows at stride <paramref name="sourceStride"/>) to
    /// rows.OutputSize x columns.OutputSize at stride <paramref name="destinationStride"/>, writing or adding.
    /// Separable like PyTorch's kernel (columns inside, rows outside). O(sourceRows x W + H x W).
    /// </summary>
    public static void ResizeBilinear(
        ReadOnlySpan<float> source, int sourceStride, int sourceRows,
        BilinearAxis rows, BilinearAxis columns, Span<float> horizontal,
        Span<float> destination, int destinationStride, bool overwrite)
    {
        var width = columns.OutputSize;
        var c0 = columns.Index0;
        var c1 = columns.Index1;
        var w0 = columns.Lambda0;
        var w1 = columns.Lambda1;
        for (var y = 0; y < sourceRows; y++)
        {
            var row = source.Slice(y * sourceStride, sourceStride);
            var resized = horizontal.Slice(y * width, width);
            for (var x = 0; x < resized.Length; x++)
            {
                resized[x] = row[c0[x]] * w0[x] + row[c1[x]] * w1[x];
            }
        }
        for (var y = 0; y < rows.OutputSize; y++)
        {
            Blend(
                horizontal.Slice(rows.Index0[y] * width, width), rows.Lambda0[y],
                horizontal.Slice(rows.Index1[y] * width, width), rows.Lambda1[y],
                destination.Slice(y * destinationStride, width), overwrite);
        }
    }

    /// <summary>destination = a*wa + b*wb, or destination += that when not <paramref name="overwrite"/>. O(n).</summary>
    private static void Blend(ReadOnlySpan<float> a, float wa, ReadOnlySpan<float> b, float wb, Span<float> destination, bool overwrite)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            ref var rd = ref MemoryMarshal.GetReference(destination);
            var va = Vector256.Create(wa);
            var vb = Vector256.Create(wb);
            for (; i <= destination.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var value = Vector256.LoadUnsafe(ref ra, (nuint)i) * va + Vector256.LoadUnsafe(ref rb, (nuint)i) * vb;
                if (!overwrite)
                {
                    value += Vector256.LoadUnsafe(ref rd, (nuint)i);
                }
                value.StoreUnsafe(ref rd, (nuint)i);
            }
        }
        for (; i < destination.Length; i++)
        {
            var value = a[i] * wa + b[i] * wb;
            destination[i] = overwrite ? value : destination[i] + value;
        }
    }

    /// <summary>
    /// destination[(y*width + x)*count + t] = planes[t*planeLength + y*rowStride + x]: T channel planes become
    /// M rows of T values. 8 x 8 AVX blocks (the last block of a row or of T overlaps the previous one);
    /// scalar when AVX is absent or the grid is narrower than 8. O(T x M).
    /// </summary>
    public static void TransposePlanes(
        ReadOnlySpan<float> planes, int count, int planeLength, int rowStride, int height, int width, Span<float> destination)
    {
        const int block = 8;
        if (!Avx.IsSupported || width < block || count < block)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var patch = destination.Slice((y * width + x) * count, count);
                    var offset = y * rowStride + x;
                    for (var t = 0; t < patch.Length; t++)
                    {
                        patch[t] = planes[t * planeLength + offset];
                    }
                }
            }
            return;
        }

        _ = planes[(count - 1) * planeLength + (height - 1) * rowStride + width - 1];
        _ = destination[height * width * count - 1];
        ref var source = ref MemoryMarshal.GetReference(planes);
        ref var target = ref MemoryMarshal.GetReference(destination);
        for (var y = 0; y < height; y++)
        {
            for (var xStart = 0; xStart < width; xStart += block)
            {
                var x = Math.Min(xStart, width - block);
                for (var tStart = 0; tStart < count; tStart += block)
                {
                    var t = Math.Min(tStart, count - block);
                    Transpose8x8(
                        ref Unsafe.Add(ref source, t * planeLength + y * rowStride + x), (nuint)planeLength,
                        ref Unsafe.Add(ref target, (y * width + x) * count + t), (nuint)count);
                }
            }
        }
    }

    /// <summary>Transposes one 8 x 8 block: row r of the source (stride sourceStride) becomes column r of the target.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref float source, nuint sourceStride, ref float target, nuint targetStride)
    {
        var r0 = Vector256.LoadUnsafe(ref source);
        var r1 = Vector256.LoadUnsafe(ref source, sourceStride);
        var r2 = Vector256.LoadUnsafe(ref source, 2 * sourceStride);
        var r3 = Vector256.LoadUnsafe(ref source, 3 * sourceStride);
        var r4 = Vector256.LoadUnsafe(ref source, 4 * sourceStride);
        var r5 = Vector256.LoadUnsafe(ref source, 5 * sourceStride);
        var r6 = Vector256.LoadUnsafe(ref source, 6 * sourceStride);
        var r7 = Vector256.LoadUnsafe(ref source, 7 * sourceStride);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Permute2x128(s0, s4, 0x20).StoreUnsafe(ref target);
        Avx.Permute2x128(s1, s5, 0x20).StoreUnsafe(ref target, targetStride);
        Avx.Permute2x128(s2, s6, 0x20).StoreUnsafe(ref target, 2 * targetStride);
        Avx.Permute2x128(s3, s7, 0x20).StoreUnsafe(ref target, 3 * targetStride);
        Avx.Permute2x128(s0, s4, 0x31).StoreUnsafe(ref target, 4 * targetStride);
        Avx.Permute2x128(s1, s5, 0x31).StoreUnsafe(ref target, 5 * targetStride);
        Avx.Permute2x128(s2, s6, 0x31).StoreUnsafe(ref target, 6 * targetStride);
        Avx.Permute2x128(s3, s7, 0x31).StoreUnsafe(ref target, 7 * targetStride);
    }
}
