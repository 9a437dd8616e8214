using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// Orleans' reminder table in files of one folder, for a one-silo server over a local-folder store: its reminders (a job's
/// "resume", which finishes a deletion a stop cut short) outlive a restart, as its grain state does, so they fire after it
/// without their grain being called. In memory they were lost with the process.
/// </summary>
/// <remarks>
/// One file per reminder, replaced whole as <see cref="AtomicFileGrainStorage"/> replaces state (a temporary file flushed
/// to the disk, then renamed over the old one), so a killed write leaves the previous reminder, never a torn file. The
/// folder itself is not flushed after a rename or a removal (.NET has no public way to), so a power cut, unlike a killed
/// process, may undo the newest upserts and removals: the reminder of before comes back, or a new one is missing (a job
/// whose reminder is missing is still resumed by its record at start, or when it is next asked for). The
/// rows are read once at start and kept in memory: one process owns the folder (<see cref="StoreFolderLock"/>), so an
/// upsert or a removal writes one file and a read reads none (O(reminders) memory; a job holds one reminder while it runs).
/// ETags as Orleans' tables keep them: an upsert replaces the row whatever its ETag and answers a new one, a removal
/// removes only the row of the ETag given.
/// </remarks>
public sealed class FileReminderTable(string folder, ILogger<FileReminderTable>? logger = null) : IReminderTable
{
    private const string Extension = ".reminder";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger = logger ?? NullLogger<FileReminderTable>.Instance;
    private Dictionary<(GrainId Grain, string Name), ReminderEntry>? _rows;

    /// <inheritdoc />
    public Task Init() => LoadAsync(CancellationToken.None);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken = default) => LoadAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken) =>
        SelectAsync(row => row.GrainId == grainId, cancellationToken);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken) =>
        SelectAsync(row => InRange(row.GrainId.GetUniformHashCode(), begin, end), cancellationToken);

    /// <summary>The ring range (begin, end]; one that wraps (begin at or past end) is the hashes above begin and those up to end.</summary>
    private static bool InRange(uint hash, uint begin, uint end) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    /// <inheritdoc />
    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Orleans reads a missing reminder as null.
            return rows.TryGetValue((grainId, reminderName), out var row) ? Copy(row) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    /// <inheritdoc />
    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var rows = await RowsAsync(cancellationToken).ConfigureAwait(false);
        var row = Copy(entry);
        row.ETag = Guid.NewGuid().ToString("N");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync(row, cancellationToken).ConfigureAwait(false);
            rows[(row.GrainId, row.ReminderName)] = row;
            return row.ETag;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    /// <inheritdoc />
    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!rows.TryGetValue((grainId, reminderName), out var row) || row.ETag != eTag)
            {
                return false;
            }
            var path = PathOf(grainId, reminderName);
            File.Delete(path);
            File.Delete(AtomicFile.TemporaryOf(path));
            rows.Remove((grainId, reminderName));
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    /// <inheritdoc />
    public async Task TestOnlyClearTable(CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (grain, name) in rows.Keys)
            {
                File.Delete(PathOf(grain, name));
            }
            // And what a cancelled or failed write left beside them, so that the folder is empty.
            foreach (var temporary in Directory.EnumerateFiles(folder, AtomicFile.TemporaryOf("*" + Extension)))
            {
                File.Delete(temporary);
            }
            rows.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ReminderTableData> SelectAsync(Func<ReminderEntry, bool> wanted, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new ReminderTableData(rows.Values.Where(wanted).Select(Copy).ToList());
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<(GrainId Grain, string Name), ReminderEntry>> RowsAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _rows) is { } rows)
        {
            return rows;
        }
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        return _rows!;
    }

    /// <summary>Reads every reminder file once; what a killed write left (a temporary file) is removed.</summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_rows is not null)
            {
                return;
            }
            Directory.CreateDirectory(folder);
            var rows = new Dictionary<(GrainId Grain, string Name), ReminderEntry>();
            foreach (var temporary in Directory.EnumerateFiles(folder, AtomicFile.TemporaryOf("*" + Extension)))
            {
                File.Delete(temporary);
            }
            foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension))
            {
                try
                {
                    var stored = JsonSerializer.Deserialize<StoredReminder>(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false))
                        ?? throw new JsonException("an empty reminder");
                    var row = stored.ToEntry();
                    rows[(row.GrainId, row.ReminderName)] = row;
                }
                catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
                {
                    // Not a reminder this version wrote: the silo starts without it (a job it would have woken is still
                    // resumed by its record at start, or when it is next asked for).
                    _logger.LogWarning(e, "The reminder file {Path} cannot be read; it is left out", path);
                }
            }
            Volatile.Write(ref _rows, rows);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WriteAsync(ReminderEntry row, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = PathOf(row.GrainId, row.ReminderName);
        await AtomicFile.ReplaceAsync(path, [JsonSerializer.SerializeToUtf8Bytes(StoredReminder.Of(row))], cancellationToken).ConfigureAwait(false);
    }

    private static ReminderEntry Copy(ReminderEntry row) => new()
    {
        GrainId = row.GrainId, ReminderName = row.ReminderName, StartAt = row.StartAt, Period = row.Period, ETag = row.ETag,
    };

    /// <summary>A hash of the grain and the name, so that any grain id and reminder name make a valid file name.</summary>
    private string PathOf(GrainId grainId, string reminderName) =>
        Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(grainId + "\n" + reminderName))) + Extension);

    /// <summary>A reminder as its file keeps it: the grain's type and key apart, times in UTC ticks.</summary>
    private sealed record StoredReminder(string GrainType, string GrainKey, string Name, long StartAtUtcTicks, long PeriodTicks, string ETag)
    {
        public static StoredReminder Of(ReminderEntry row) => new(
            row.GrainId.Type.ToString()!, row.GrainId.Key.ToString()!, row.ReminderName, row.StartAt.ToUniversalTime().Ticks, row.Period.Ticks, row.ETag!);

        public ReminderEntry ToEntry() => new()
        {
            GrainId = GrainId.Create(GrainType, GrainKey),
            ReminderName = Name,
            StartAt = new DateTime(StartAtUtcTicks, DateTimeKind.Utc),
            Period = TimeSpan.FromTicks(PeriodTicks),
            ETag = ETag,
        };
    }
}
