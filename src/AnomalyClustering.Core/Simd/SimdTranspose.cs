using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Simd;

/// <summary>AVX register transposes shared by the patch embedder and the nearest-patch kernel's packing.</summary>
internal static class SimdTranspose
{
    /// <summary>Transposes one 8 x 8 block: row r of the source (stride sourceStride) becomes column r of the target.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref float source, nuint sourceStride, ref float target, nuint targetStride)
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
