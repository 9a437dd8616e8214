using AnomalyClustering.Cli.Lines;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// Which files of a fed folder <c>line feed</c> takes, pass after pass: once each without <c>--watch</c>; watching, a file
/// whose length or write time changed after it was taken is taken again (an empty placeholder filled later, a writer that
/// paused past the settle time, a name reused for a new picture), and an unchanged one never. Write times are set in the
/// past here, so that no pass waits on the settle time.
/// </summary>
public sealed class LineFeedFolderTests
{
    private static readonly byte[] Head = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    private static readonly byte[] Whole = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6, 0xFF, 0xD9];

    [Fact]
    public void AWatchingFeedTakesAFileAgainWhenItChangesAndNeverWhenItDoesNot()
    {
        using var folder = new TempFolder();
        var placeholder = Settled(folder.Write([], "cam.jpg"), minutesAgo: 10);
        var partial = Settled(folder.Write(Head, "slow.jpg"), minutesAgo: 10);
        var reused = Settled(folder.Write(Whole, "exp1.jpg"), minutesAgo: 10);
        Settled(folder.WriteText("first", "notes.txt"), minutesAgo: 10);
        var files = new LineFeedFolder(folder.Path);

        var (ready, leftOut) = files.Next(watching: true);
        Assert.Equal(["exp1.jpg", "slow.jpg"], ready.Select(file => file.Name));
        Assert.Equal([("cam.jpg", "empty"), ("notes.txt", "unsupported-file")], leftOut.Select(file => (file.Name, file.Reason)));

        // Nothing changed: nothing is taken again.
        (ready, leftOut) = files.Next(watching: true);
        Assert.Empty(ready);
        Assert.Empty(leftOut);

        // The placeholder is filled, the paused writer finishes, the camera writes the same name again, and the text file
        // changes: the three images are taken again, with their bytes as they are now; a file that is no image stays out.
        Settled(folder.Write(Whole, "cam.jpg"), minutesAgo: 5);
        Settled(folder.Write(Whole, "slow.jpg"), minutesAgo: 5);
        Settled(reused, minutesAgo: 5);
        Settled(folder.WriteText("second, longer", "notes.txt"), minutesAgo: 5);
        (ready, leftOut) = files.Next(watching: true);
        Assert.Equal(["cam.jpg", "exp1.jpg", "slow.jpg"], ready.Select(file => file.Name));
        Assert.All(ready, file => Assert.Equal(Whole, file.Bytes));
        Assert.Empty(leftOut);
        Assert.Equal(placeholder, ready[0].Path);
        Assert.Equal(partial, ready[2].Path);

        // Still changing (written within the settle time): left for a later pass, then taken.
        File.WriteAllBytes(placeholder, Head);
        Assert.Empty(files.Next(watching: true).Ready);
        Settled(placeholder, minutesAgo: 1);
        Assert.Equal(["cam.jpg"], files.Next(watching: true).Ready.Select(file => file.Name));
    }

    [Fact]
    public void AFeedThatDoesNotWatchTakesEachFileOnce()
    {
        using var folder = new TempFolder();
        Settled(folder.Write([], "cam.jpg"), minutesAgo: 10);
        var files = new LineFeedFolder(folder.Path);
        Assert.Equal(["cam.jpg"], files.Next(watching: false).LeftOut.Select(file => file.Name));

        Settled(folder.Write(Whole, "cam.jpg"), minutesAgo: 5);
        var (ready, leftOut) = files.Next(watching: false);
        Assert.Empty(ready);
        Assert.Empty(leftOut);
    }

    private static string Settled(string path, int minutesAgo)
    {
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-minutesAgo));
        return path;
    }
}
