using System.Text;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Appends a line's decisions to its hourly JSON-lines blobs (<see cref="LineBlobNames.DecisionHour"/>), one activation
/// per line so that two requests never rewrite an hour blob over each other. An image id is logged once: its decision is
/// also written to <see cref="LineBlobNames.DecisionOf"/> (a conditional create), which a repeated post finds. The hour
/// blob is logged first, so a crash between the two writes can log a decision twice but never lose one. An append
/// rewrites the hour blob: O(decisions that hour) bytes, fine for a line's rate of a few images a second.
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed class LineDecisionLogGrain(IBlobStore blobs) : Grain, ILineDecisionLogGrain
{
    private string LinePrefix => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> Append(IReadOnlyList<LineDecisionEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var stored = new string[entries.Count];
        var fresh = new List<int>();
        var firstOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var e = 0; e < entries.Count; e++)
        {
            // The same image twice in one batch is one decision: the first entry's.
            if (!firstOfId.TryAdd(entries[e].ImageId, e))
            {
                continue;
            }
            if (await ReadDecisionAsync(entries[e].ImageId).ConfigureAwait(true) is { } earlier)
            {
                stored[e] = earlier;
            }
            else
            {
                fresh.Add(e);
            }
        }
        foreach (var hour in fresh.GroupBy(e => LineBlobNames.DecisionHour(LinePrefix, entries[e].DecidedAt)))
        {
            var log = new MemoryStream();
            try
            {
                await using var existing = await blobs.OpenReadAsync(hour.Key).ConfigureAwait(true);
                await existing.CopyToAsync(log).ConfigureAwait(true);
            }
            catch (BlobNotFoundException)
            {
                // The hour's first decision.
            }
            foreach (var e in hour)
            {
                log.Write(Encoding.UTF8.GetBytes(entries[e].Json));
                log.WriteByte((byte)'\n');
            }
            log.Position = 0;
            await blobs.PutAsync(hour.Key, log).ConfigureAwait(true);
        }
        foreach (var e in fresh)
        {
            using var decision = new MemoryStream(Encoding.UTF8.GetBytes(entries[e].Json), writable: false);
            await blobs.PutAsync(LineBlobNames.DecisionOf(LinePrefix, entries[e].ImageId), decision, overwrite: true).ConfigureAwait(true);
            stored[e] = entries[e].Json;
        }
        for (var e = 0; e < entries.Count; e++)
        {
            stored[e] = stored[firstOfId[entries[e].ImageId]];
        }
        return stored;
    }

    private async Task<string?> ReadDecisionAsync(string imageId)
    {
        try
        {
            var bytes = await blobs.ReadAllBytesAsync(LineBlobNames.DecisionOf(LinePrefix, imageId)).ConfigureAwait(true);
            return Encoding.UTF8.GetString(bytes);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}
