using System.Runtime.InteropServices;

namespace AnomalyClustering.Cli.Datasets;

/// <summary>
/// Whether a listed image file can be read at all, asked before it is opened for its bytes: a file that is not a regular file
/// (a named pipe, socket or device named like an image) is refused without opening it, because opening a named pipe for
/// reading blocks until some process writes to it (forever, and a signal does not end the wait); a missing file (a broken
/// link, a file deleted since it was listed) or one without read permission is refused with the system's reason.
/// </summary>
internal static partial class ImageFileAccess
{
    /// <summary>Why <paramref name="path"/> cannot be read, in the words of an image error (<c>cannot read the file: ...</c>), or null when it can.</summary>
    public static string? Problem(string path)
    {
        if (NotRegularProblem(path) is { } notRegular)
        {
            return notRegular;
        }
        try
        {
            // Opening (nothing is read) is what fails for a missing file or one without read permission.
            File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read).Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read the file: {e.Message}";
        }
    }

    /// <summary>Why <paramref name="path"/> must not be opened (as <see cref="Problem"/> words it) when it is not a regular file; null otherwise.</summary>
    public static string? NotRegularProblem(string path) =>
        NonRegularKind(path) is { } kind ? $"cannot read the file: it is {kind}, not a regular file." : null;

    /// <summary>
    /// What <paramref name="path"/> (its link target, for a link) is when it exists and is not a regular file, e.g. "a named
    /// pipe (FIFO)"; null for a regular file, a missing one, and where the type cannot be asked (Windows).
    /// </summary>
    /// <remarks>
    /// .NET 10 has no public way to ask a file's type: on Unix, <see cref="FileSystemInfo.Attributes"/> says Normal for a
    /// FIFO, a socket and a device alike, and <see cref="FileInfo.Length"/> is 0 for them as for an empty file. On Linux
    /// statx(2) asks the kernel without opening the file (the runtime's stat where the C library lacks it); elsewhere on Unix (macOS, the BSDs) the runtime's own stat does
    /// (<see cref="RuntimeFileMode"/>).
    /// </remarks>
    public static string? NonRegularKind(string path)
    {
        var mode = OperatingSystem.IsLinux() ? LinuxFileMode(path, StatxFileMode) : OperatingSystem.IsWindows() ? null : RuntimeFileMode(path);
        return (mode & FileTypeMask) switch
        {
            null or RegularFile => null,
            0x1000 => "a named pipe (FIFO)",
            0xC000 => "a socket",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x4000 => "a folder",
            _ => "a special file",
        };
    }

    /// <summary>
    /// <paramref name="path"/>'s st_mode on Linux from <paramref name="statx"/> (<see cref="StatxFileMode"/>), or, where the C
    /// library has no statx (glibc before 2.28, older musl), from the runtime's own stat, which works there as on other Unixes.
    /// </summary>
    internal static int? LinuxFileMode(string path, Func<string, int?> statx)
    {
        try
        {
            return statx(path);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return RuntimeFileMode(path);
        }
    }

    /// <summary>
    /// <paramref name="path"/>'s st_mode from statx(2), whose result layout is the same on every Linux architecture; null when
    /// it is missing or not permitted (opening the file then says which, in the system's words).
    /// </summary>
    /// <exception cref="EntryPointNotFoundException">The C library has no statx.</exception>
    private static unsafe int? StatxFileMode(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (Statx(AtCurrentDirectory, path, flags: 0, StatxType, buffer) != 0)
        {
            return null;
        }
        return *(ushort*)(buffer + StatxModeOffset);
    }

    /// <summary>
    /// <paramref name="path"/>'s st_mode from the stat of .NET's own native shim (libSystem.Native, shipped with the runtime
    /// on every Unix), which fills a structure of its own whose first fields (flags, then st_mode as the system gives it) are
    /// the same on every Unix, so no system's struct stat layout is assumed here (macOS's differs between its symbol
    /// versions). Null when the file is missing or not permitted, and when the shim has no such function: it is not a public
    /// API, so a later runtime without it turns the check off (files are read as before) rather than making it wrong.
    /// </summary>
    internal static unsafe int? RuntimeFileMode(string path)
    {
        var buffer = stackalloc byte[RuntimeFileStatusSize];
        try
        {
            if (RuntimeStat(path, buffer) != 0)
            {
                return null;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return *(int*)(buffer + RuntimeFileStatusModeOffset);
    }

    private const int AtCurrentDirectory = -100; // AT_FDCWD
    private const uint StatxType = 0x1; // STATX_TYPE: only stx_mode's type bits are asked for
    private const int StatxSize = 256; // sizeof(struct statx)
    private const int StatxModeOffset = 28; // stx_mode, after stx_mask, stx_blksize, stx_attributes, stx_nlink, stx_uid, stx_gid
    private const int FileTypeMask = 0xF000; // S_IFMT
    private const int RegularFile = 0x8000; // S_IFREG

    private const int RuntimeFileStatusSize = 512; // sizeof(FileStatus) is 120 in .NET 10; room for fields added later
    private const int RuntimeFileStatusModeOffset = 4; // FileStatus.Mode, after its int32 Flags

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int RuntimeStat(string path, byte* status);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);
}
