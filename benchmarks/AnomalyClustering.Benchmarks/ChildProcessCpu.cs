using System.Runtime.InteropServices;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// CPU seconds of this process's terminated and reaped children (getrusage RUSAGE_CHILDREN): the only way to read a child's
/// CPU time after it has exited, which is when a whole CLI run's CPU is known. 0 where the call is not available.
/// </summary>
internal static partial class ChildProcessCpu
{
    private const int RusageChildren = -1;

    /// <summary>User + system seconds of all reaped children so far.</summary>
    public static double ReapedChildrenSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }
        var usage = new Rusage();
        return GetRusage(RusageChildren, ref usage) == 0
            ? usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6
            : 0;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, ref Rusage usage);

    /// <summary>struct rusage on 64-bit Linux: two timevals, then 14 longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public fixed long Rest[14];
    }
}
