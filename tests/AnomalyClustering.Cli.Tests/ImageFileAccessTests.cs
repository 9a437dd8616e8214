using AnomalyClustering.Cli.Datasets;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The file-type check that keeps the CLI from opening a named pipe named like an image: the runtime's stat, which asks on
/// macOS and the BSDs and on Linux where the C library has no statx, gives the type that Linux's statx gives (checked where
/// both can be asked: Linux).
/// </summary>
public sealed class ImageFileAccessTests
{
    [Fact]
    public void TheRuntimesStatGivesTheFileTypeStatxGives()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "statx, the reference, is Linux's");
        using var folder = new TempFolder();
        var image = folder.Combine("image.png");
        File.WriteAllBytes(image, [1, 2, 3]);
        using var pipe = NamedPipeFile.Create(folder.Combine("pipe.png"), unblockAfter: TimeSpan.FromMinutes(5));

        Assert.Equal(0x8000, ImageFileAccess.RuntimeFileMode(image) & 0xF000);
        Assert.Equal(0x1000, ImageFileAccess.RuntimeFileMode(pipe.Path) & 0xF000);
        Assert.Equal(0x4000, ImageFileAccess.RuntimeFileMode(folder.Path) & 0xF000);
        Assert.Null(ImageFileAccess.RuntimeFileMode(folder.Combine("missing.png")));
        Assert.Null(ImageFileAccess.NonRegularKind(image));
        Assert.Equal("a named pipe (FIFO)", ImageFileAccess.NonRegularKind(pipe.Path));
        // A C library without statx (glibc before 2.28): the runtime's stat asks instead, and the pipe is still found.
        Func<string, int?> noStatx = _ => throw new EntryPointNotFoundException("statx");
        Assert.Equal(0x1000, ImageFileAccess.LinuxFileMode(pipe.Path, noStatx) & 0xF000);
        Assert.Equal(0x8000, ImageFileAccess.LinuxFileMode(image, noStatx) & 0xF000);
    }
}
