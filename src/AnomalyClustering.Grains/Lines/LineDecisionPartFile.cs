using System.Runtime.CompilerServices;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Storage;
using Parquet;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// One stored part of a line's decision log, opened for a page: its rows decoded a row group at a time from a given row on,
/// so that a page in a compacted part (an hour's rows, in groups of <see cref="LineDecisionCompactor.RowGroupRows"/>)
/// decodes the groups it needs, not the hour. A compacted part is opened seekable (<see cref="IBlobStore.OpenSeekableReadAsync"/>),
/// so that a page fetches its footer and the groups it decodes, not the hour's part (tens of MB for a fast line); a part as a
/// flush wrote it is small, and is read whole in one request. A page with a time window skips, without decoding, the groups
/// whose range of <c>decided_at</c> the footer gives lies outside it.
/// </summary>
internal sealed class LineDecisionPartFile : IAsyncDisposable
{
    private readonly Stream _content;
    private readonly ParquetReader _reader;
    private readonly IReadOnlyList<(DateTimeOffset Min, DateTimeOffset Max)>? _decidedAtRanges;

    private LineDecisionPartFile(Stream content, ParquetReader reader)
    {
        _content = content;
        _reader = reader;
        RowCount = Enumerable.Range(0, reader.RowGroupCount).Sum(g => checked((int)reader.RowGroups[g].RowCount));
        _decidedAtRanges = LineDecisionParquet.DecidedAtRanges(reader);
    }

    /// <summary>The part's rows.</summary>
    public int RowCount { get; }

    /// <summary>What a compacted part replaces, or null for a part as a flush wrote it.</summary>
    /// <exception cref="InvalidDataException">The part is named compacted and does not say what it replaces.</exception>
    public CompactedPartManifest? Manifest(string name) =>
        LineBlobNames.IsCompactedDecisionPart(name) ? CompactedPartManifest.From(name, _reader.CustomMetadata) : null;

    /// <summary>Opens the part stored as blob <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">The blob is not a Parquet file.</exception>
    public static async Task<LineDecisionPartFile> OpenAsync(IBlobStore store, string name, CancellationToken cancellationToken)
    {
        var content = LineBlobNames.IsCompactedDecisionPart(name)
            ? await store.OpenSeekableReadAsync(name, cancellationToken).ConfigureAwait(false)
            : new MemoryStream(await store.ReadAllBytesAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false), writable: false);
        try
        {
            return new LineDecisionPartFile(content, await ParquetReader.CreateAsync(content, cancellationToken: cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await content.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The rows from <paramref name="fromRow"/> on, each with its row number, decoding a row group only when the caller
    /// reaches it. A group whose range of <c>decided_at</c> (<see cref="LineDecisionParquet.DecidedAtRangesKey"/>, in a
    /// compacted part's footer) is all before <paramref name="since"/> or at or after <paramref name="until"/> (the caller's
    /// window; either may be null) is not decoded, and none of its rows is given: the caller would drop them all. Rows are in log order, not by time, so groups are skipped by their own min and max alone;
    /// row numbers count the skipped groups' rows, so a token names the same row as without the skip.
    /// </summary>
    public async IAsyncEnumerable<(int Row, LineDecision Decision)> RowsFromAsync(
        int fromRow, DateTimeOffset? since, DateTimeOffset? until, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var first = 0;
        for (var g = 0; g < _reader.RowGroupCount; g++)
        {
            var count = checked((int)_reader.RowGroups[g].RowCount);
            if (first + count > fromRow && !IsOutside(g, since, until))
            {
                var rows = await LineDecisionParquet.ReadGroupAsync(_reader, g, cancellationToken).ConfigureAwait(false);
                for (var r = Math.Max(0, fromRow - first); r < rows.Count; r++)
                {
                    yield return (first + r, rows[r]);
                }
            }
            first += count;
        }
    }

    /// <summary>Whether row group <paramref name="g"/>'s range of <c>decided_at</c>, where the part states it, holds none of [<paramref name="since"/>, <paramref name="until"/>).</summary>
    private bool IsOutside(int g, DateTimeOffset? since, DateTimeOffset? until) =>
        _decidedAtRanges is { } ranges
        && ((since is { } lower && ranges[g].Max < lower) || (until is { } upper && ranges[g].Min >= upper));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync().ConfigureAwait(false);
        await _content.DisposeAsync().ConfigureAwait(false);
    }
}
