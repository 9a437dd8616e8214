using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The lock of a local-folder store (<see cref="StoreFolderLock"/>): CLI runs share it (several at once on one store, as
/// before), a server takes it alone, and whoever is refused is told who holds it.
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
}
