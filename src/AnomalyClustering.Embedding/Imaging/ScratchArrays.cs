using System.Buffers;
using System.Runtime.CompilerServices;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Scratch arrays of the decoders and the resampler: those up to <see cref="PooledLimitBytes"/> from
/// <see cref="ArrayPool{T}.Shared"/>, larger ones allocated for the call and left to the GC. Why: the shared pool keeps
/// arrays of up to 1 GiB, several per size and per core, until the GC trims it under memory pressure, so the 400 MB RGBA
/// scratch of one 10000 x 10000 image stayed held by a worker long after the image (issue #15: a worker's memory must
/// come back after huge images). Images of ordinary size (up to 2048 x 2048 RGBA) still reuse pooled scratch.
/// </summary>
internal static class ScratchArrays
{
    /// <summary>The largest scratch array, in bytes, that is pooled (a power of two, so a pooled bucket never exceeds it).</summary>
    public const long PooledLimitBytes = 16L * 1024 * 1024;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined); give it back with <see cref="Return{T}"/>.</summary>
    public static T[] Rent<T>(int length) =>
        IsPooled<T>(length) ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    /// <summary>Gives back an array from <see cref="Rent{T}"/>: pooled ones to the pool, large ones to the GC.</summary>
    public static void Return<T>(T[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (IsPooled<T>(array.Length))
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }

    private static bool IsPooled<T>(int length) => (long)length * Unsafe.SizeOf<T>() <= PooledLimitBytes;
}
