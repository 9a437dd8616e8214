using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// A one-node server's reminders in files (<see cref="FileReminderTable"/>), against Orleans' reminder-table contract: an
/// upsert answers a new ETag, a removal with another row's ETag removes nothing, rows are read by grain and by ring range,
/// and a table opened again over the folder (a restarted server) reads the rows as they were left.
/// </summary>
public sealed class FileReminderTableTests
{
    [Fact]
    public async Task RowsAreUpsertedRemovedByTheirETagAndReadAgainByANewTableOverTheFolder()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var table = new FileReminderTable(folder.Path);
        await table.StartAsync(cancel);
        var job = GrainId.Create("clusteringjob", "job-1");
        var startAt = new DateTime(2026, 12, 5, 4, 0, 0, DateTimeKind.Utc);

        var first = await table.UpsertRow(Entry(job, "resume", startAt, "ignored"), cancel);
        var second = await table.UpsertRow(Entry(job, "resume", startAt.AddMinutes(1), first), cancel);
        await table.UpsertRow(Entry(GrainId.Create("clusteringjob", "job-2"), "resume", startAt, null), cancel);

        Assert.False(string.IsNullOrEmpty(first));
        Assert.NotEqual(first, second);
        var read = Assert.IsType<ReminderEntry>(await table.ReadRow(job, "resume", cancel));
        Assert.Equal((job, "resume", startAt.AddMinutes(1), TimeSpan.FromMinutes(1), second), (read.GrainId, read.ReminderName, read.StartAt, read.Period, read.ETag));
        Assert.Null(await table.ReadRow(job, "no-such-reminder", cancel));
        // The ETag of the replaced row no longer removes it.
        Assert.False(await table.RemoveRow(job, "resume", first!, cancel));
        Assert.NotNull(await table.ReadRow(job, "resume", cancel));

        var reopened = new FileReminderTable(folder.Path);
        await reopened.StartAsync(cancel);
        Assert.Equal(second, Assert.Single((await reopened.ReadRows(job, cancel)).Reminders).ETag);
        Assert.Equal(2, (await reopened.ReadRows(0, 0, cancel)).Reminders.Count);
        Assert.True(await reopened.RemoveRow(job, "resume", second!, cancel));
        Assert.False(await reopened.RemoveRow(job, "resume", second!, cancel));
        Assert.Null(await reopened.ReadRow(job, "resume", cancel));

        var again = new FileReminderTable(folder.Path);
        Assert.Null(await again.ReadRow(job, "resume", cancel));
        Assert.Single((await again.ReadRows(0, 0, cancel)).Reminders);
    }

    [Fact]
    public async Task ClearingTheTableEmptiesItsFolderOfLeftTemporaryFilesToo()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var table = new FileReminderTable(folder.Path);
        await table.StartAsync(cancel);
        await table.UpsertRow(Entry(GrainId.Create("clusteringjob", "job-1"), "resume", DateTime.UtcNow, null), cancel);
        // What a write cancelled after the table was read leaves.
        File.WriteAllText(Path.Combine(folder.Path, "0123.reminder.tmp"), "{");

        await table.TestOnlyClearTable(cancel);

        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
        Assert.Empty((await table.ReadRows(0, 0, cancel)).Reminders);
    }

    [Fact]
    public async Task ARangeReadHoldsTheRowsWhoseGrainHashIsAboveItsBeginAndUpToItsEndAndWrapsAroundTheRing()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var table = new FileReminderTable(folder.Path);
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("clusteringjob", $"job-{i}")).ToArray();
        foreach (var grain in grains)
        {
            await table.UpsertRow(Entry(grain, "resume", DateTime.UtcNow, null), cancel);
        }
        var hashes = grains.Select(grain => grain.GetUniformHashCode()).Order().ToArray();
        var (low, high) = (hashes[10], hashes[30]);

        var inside = (await table.ReadRows(low, high, cancel)).Reminders.Select(row => row.GrainId.GetUniformHashCode()).Order();
        var wrapped = (await table.ReadRows(high, low, cancel)).Reminders.Select(row => row.GrainId.GetUniformHashCode()).Order();

        // (begin, end]: the begin's own row belongs to the range that ends there.
        Assert.Equal(hashes[11..31], inside);
        Assert.Equal([.. hashes[..11], .. hashes[31..]], wrapped);
    }

    private static ReminderEntry Entry(GrainId grain, string name, DateTime startAt, string? etag) =>
        new() { GrainId = grain, ReminderName = name, StartAt = startAt, Period = TimeSpan.FromMinutes(1), ETag = etag! };
}
