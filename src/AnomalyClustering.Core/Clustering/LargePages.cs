using System.Runtime.InteropServices;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Asks Linux for 2 MB pages under a large distance matrix, as NumPy does for every large array.
/// Why: the linkage reads columns of the condensed matrix, one element per row, so with 4 KB pages
/// nearly every read is also a TLB miss; with 2 MB pages the whole matrix fits the TLB. A hint
/// only: on other systems, or if the kernel declines, nothing changes but speed.
/// </summary>
internal static partial class LargePages
{
    private const int AdviseHugePage = 14; // MADV_HUGEPAGE
    private const int AdviseCollapse = 25; // MADV_COLLAPSE (Linux 6.1+): back already-touched memory with 2 MB pages now
    private const long HugePageBytes = 2L << 20;

    /// <summary>Only matrices this large gain; smaller ones are TLB-resident anyway.</summary>
    private const long MinimumBytes = 64L << 20;

    /// <summary>An uninitialised array whose pages, once touched, come as 2 MB pages where possible.</summary>
    public static double[] AllocateUninitialized(long length)
    {
        var array = GC.AllocateUninitializedArray<double>(checked((int)length));
        Advise(array, alreadyWritten: false);
        return array;
    }

    /// <summary>
    /// Advises 2 MB pages for <paramref name="array"/>; when it already holds data, also asks the
    /// kernel to collapse its pages now (a one-off copy, about 0.1 s per GB).
    /// </summary>
    public static unsafe void Advise(double[] array, bool alreadyWritten)
    {
        var bytes = (long)array.Length * sizeof(double);
        if (!OperatingSystem.IsLinux() || bytes < MinimumBytes)
        {
            return;
        }
        // Large arrays live on the large-object heap, which the GC does not move unless asked to;
        // the advice is about the address range, so a later move would only lose the speed-up.
        fixed (double* start = array)
        {
            var first = ((long)start + HugePageBytes - 1) & ~(HugePageBytes - 1);
            var end = ((long)start + bytes) & ~(HugePageBytes - 1);
            if (end <= first)
            {
                return;
            }
            try
            {
                if (Madvise((nint)first, (nuint)(end - first), AdviseHugePage) == 0 && alreadyWritten)
                {
                    Madvise((nint)first, (nuint)(end - first), AdviseCollapse);
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No libc madvise (a non-glibc or sandboxed runtime): keep 4 KB pages.
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
