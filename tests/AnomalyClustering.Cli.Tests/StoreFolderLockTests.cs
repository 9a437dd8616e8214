using System.Runtime.Versioning;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The lock of a local-folder store (<see cref="StoreFolderLock"/>): CLI runs share it (several at once on one store, as
/// before), a server takes it alone, and whoever is refused is told who holds it; a lock that cannot be written is said to
/// be so (the folder and the cause), never "in use", and leaves nothing locked; a CLI run with .NET's file locking off, whose
/// lock then keeps no server out, says so, naming the folder, unless its store is eval's temporary one, which no server can use.
/// </summary>
public sealed class StoreFolderLockTests
{
    [Fact]
    public void CliRunsShareTheFolderAndAServerIsRefusedUntilTheyEnd()
    {
        using var folder = new TempFolder();
        var first = StoreFolderLock.TakeShared(folder.Path);
        using (StoreFolderLock.TakeShared(folder.Path))
        {
            var refused = Assert.Throws<StoreFolderInUseException>(() => StoreFolderLock.TakeExclusive(folder.Path));
            Assert.False(refused.HeldByServer);
            Assert.Contains(folder.Path, refused.Message, StringComparison.Ordinal);
            Assert.Contains("CLI runs", refused.Message, StringComparison.Ordinal);
        }
        first.Dispose();

        using var server = StoreFolderLock.TakeExclusive(folder.Path);
    }

    [Fact]
    public void AServerHoldsTheFolderAloneAndIsNamedToWhoeverIsRefused()
    {
        using var folder = new TempFolder();
        using (StoreFolderLock.TakeExclusive(folder.Path))
        {
            foreach (var take in new Func<string, StoreFolderLock>[] { StoreFolderLock.TakeExclusive, StoreFolderLock.TakeShared })
            {
                var refused = Assert.Throws<StoreFolderInUseException>(() => take(folder.Path));
                Assert.True(refused.HeldByServer);
                Assert.Equal($"pid {Environment.ProcessId} on host {Environment.MachineName}", refused.Holder?[..refused.Holder.IndexOf(',', StringComparison.Ordinal)]);
                Assert.Contains(folder.Path, refused.Message, StringComparison.Ordinal);
            }
        }

        // Released with its holder: a CLI run may use the folder again.
        using var cli = StoreFolderLock.TakeShared(folder.Path);
    }

    [Fact]
    public void ALockFileThatCannotBeOpenedIsSaidToBeSoNotInUse()
    {
        using var folder = new TempFolder();
        // A folder where the lock file goes: opening it fails (EISDIR, or access denied), whatever the user, root included.
        Directory.CreateDirectory(StoreFolderLock.LockFileOf(folder.Path));

        foreach (var take in new Func<string, StoreFolderLock>[] { StoreFolderLock.TakeExclusive, StoreFolderLock.TakeShared })
        {
            var failed = Assert.Throws<StoreFolderLockException>(() => take(folder.Path));
            Assert.Equal(ClusterHostingOptions.StateFolderOf(folder.Path), failed.Folder);
            Assert.Contains($"'{failed.Folder}'", failed.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("in use", failed.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void AStateFolderThisUserCannotWriteIsSaidToBeSoNotInUse()
    {
        // Root writes any folder whatever its mode (CI runs as root, so this is skipped there); Windows has no Unix modes.
        Assert.SkipWhen(Environment.UserName == "root", "root ignores the folder's permissions");
        Assert.SkipWhen(OperatingSystem.IsWindows(), "folder modes are Unix's");
        using var folder = new TempFolder();
        var stateFolder = ClusterHostingOptions.StateFolderOf(folder.Path);
        Directory.CreateDirectory(stateFolder);
        File.SetUnixFileMode(stateFolder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var failed = Assert.Throws<StoreFolderLockException>(() => StoreFolderLock.TakeExclusive(folder.Path));
            Assert.Contains($"'{stateFolder}'", failed.Message, StringComparison.Ordinal);
            Assert.IsType<UnauthorizedAccessException>(failed.InnerException);
        }
        finally
        {
            File.SetUnixFileMode(stateFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void AServerThatCannotNameItselfLeavesTheFolderUnlocked()
    {
        using var folder = new TempFolder();
        // A folder where the holder file is first written: the lock is taken, naming the holder fails.
        var blocker = StoreFolderLock.HolderFileOf(folder.Path) + ".tmp";
        Directory.CreateDirectory(blocker);

        Assert.Throws<StoreFolderLockException>(() => StoreFolderLock.TakeExclusive(folder.Path));

        Directory.Delete(blocker);
        using var server = StoreFolderLock.TakeExclusive(folder.Path);
    }

    [Fact]
    public void ACliRunWithFileLockingOffSaysSoOnceOnStandardError()
    {
        // Windows' share modes are not turned off by the variable (StoreFolderLock.FileLockingIsOff).
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the variable turns off file locking on Unix only");
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 2, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 2, seed: 2);
        string[] run = ["cluster", images, "-k", "2", "--store", folder.Combine("store"), "--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

        // A child process: the variable is read per process, and this one's other tests must keep their locking.
        var lockingOff = CliRun.Executable(new Dictionary<string, string> { [StoreFolderLock.FileLockingVariable] = "1" }, [.. run, "-o", folder.Combine("off")]);
        var lockingOn = CliRun.Executable([.. run, "-o", folder.Combine("on")]);

        Assert.True(lockingOff.ExitCode == 0, lockingOff.Error);
        var warning = Assert.Single(lockingOff.Error.Split('\n'), line => line.Contains("file locking is off", StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("warning: file locking is off", warning, StringComparison.Ordinal);
        Assert.Contains(StoreFolderLock.FileLockingVariable, warning, StringComparison.Ordinal);
        // The CLI's own words: the folder, and a server (not other CLI runs, which share the lock anyway) as the risk.
        Assert.Contains($"'{Path.GetFullPath(folder.Combine("store"))}'", warning, StringComparison.Ordinal);
        Assert.Contains("would not keep a server out", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("no CLI run", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("file locking is off", lockingOff.Output, StringComparison.OrdinalIgnoreCase);
        Assert.True(lockingOn.ExitCode == 0, lockingOn.Error);
        Assert.DoesNotContain("file locking is off", lockingOn.Error + lockingOn.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EvalOnItsOwnTemporaryStoreDoesNotWarnWithFileLockingOff()
    {
        // Without --store, eval runs on a new folder of its own that it deletes at the end: no server can be on it.
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the variable turns off file locking on Unix only");
        using var folder = new TempFolder();
        var summary = SyntheticProductLine.Write(folder.Combine("data"), new SyntheticProductLineOptions { ImagesPerClass = 2, DefectTypes = [DefectType.Hole], Seed = 3 });

        var run = CliRun.Executable(new Dictionary<string, string> { [StoreFolderLock.FileLockingVariable] = "1" },
            "eval", summary.Root, "--modes", "average", "-o", folder.Combine("eval"), "--pretrain-dim", "64", "--target-dim", "64");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(folder.Combine("eval", "eval.csv")), "the eval ran");
        Assert.DoesNotContain("file locking is off", run.Error + run.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("1", null, true)]
    [InlineData("true", null, true)]
    [InlineData("TRUE", false, true)]
    [InlineData("0", true, false)]
    [InlineData("False", true, false)]
    [InlineData("yes", true, true)]
    [InlineData("yes", null, false)]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    public void FileLockingIsOffAsTheRuntimeReadsTheVariableThenTheSwitch(string? environmentValue, bool? appContextSwitch, bool off) =>
        Assert.Equal(off, StoreFolderLock.FileLockingIsOff(environmentValue, appContextSwitch));
}
