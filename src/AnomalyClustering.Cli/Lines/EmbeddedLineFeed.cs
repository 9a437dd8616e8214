using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line feed</c> without a server: each image is written to the local store under the line (by its SHA-256, its id) and
/// sent on the embedded silo's in-memory intake stream, which decides it by the same consumer as a cluster's queue
/// (<see cref="LineIntakeGrain"/>); the feed then waits for each image's logged decision. An image decided before is not
/// sent again: its logged decision is reported.
/// </summary>
internal sealed class EmbeddedLineFeed(EmbeddedCluster cluster, string line)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the feed waits without any new decision before it gives up (the silo is stuck).</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromMinutes(10);

    private readonly string prefix = LocalLineStore.PrefixOf(line);

    /// <summary>Images sent whose decision has not been seen yet.</summary>
    public int Pending { get; private set; }

    /// <summary>Sends <paramref name="files"/> and reports each one's decision to <paramref name="decided"/> as it is logged.</summary>
    public async Task DecideAsync(IReadOnlyList<FeedFile> files, Action<FeedFile, LineImageResult> decided, CancellationToken cancellationToken)
    {
        var waiting = new Dictionary<string, List<FeedFile>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var imageId = Convert.ToHexStringLower(SHA256.HashData(file.Bytes));
            if (waiting.TryGetValue(imageId, out var same))
            {
                // The same bytes twice in the folder: one image, one decision.
                same.Add(file);
                continue;
            }
            if (await StoredAsync(imageId, cancellationToken).ConfigureAwait(false) is { } earlier)
            {
                decided(file, Answer(imageId, file, earlier, repeated: true));
                continue;
            }
            var blob = LineBlobNames.ImageOf(prefix, imageId);
            using (var content = new MemoryStream(file.Bytes, writable: false))
            {
                await cluster.Store.PutAsync(blob, content, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            await cluster.Client.SendAsync(new LineIntakeMessage(line, null, imageId, blob, file.Name, DateTimeOffset.UtcNow)).ConfigureAwait(false);
            waiting[imageId] = [file];
        }
        Pending += waiting.Count;
        var lastProgress = DateTime.UtcNow;
        while (waiting.Count > 0)
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            foreach (var imageId in waiting.Keys.ToList())
            {
                if (await StoredAsync(imageId, cancellationToken).ConfigureAwait(false) is not { } decision)
                {
                    continue;
                }
                var sameImage = waiting[imageId];
                for (var f = 0; f < sameImage.Count; f++)
                {
                    decided(sameImage[f], Answer(imageId, sameImage[f], decision, repeated: f > 0));
                }
                waiting.Remove(imageId);
                Pending--;
                lastProgress = DateTime.UtcNow;
            }
            if (DateTime.UtcNow - lastProgress > StallLimit)
            {
                throw new CliInputException(
                    $"{waiting.Count} images sent to line '{line}' got no decision in {StallLimit.TotalMinutes:F0} minutes; the embedded silo is stuck (set {CliApplication.TraceVariable}=1 and report it).");
            }
        }
    }

    private static LineImageResult Answer(string imageId, FeedFile file, LineDecision decision, bool repeated) =>
        new(imageId, file.Name, repeated, decision.Error is null ? decision : null, decision.Error);

    private async Task<LineDecision?> StoredAsync(string imageId, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await cluster.Store.ReadAllBytesAsync(LineBlobNames.DecisionOf(prefix, imageId), cancellationToken: cancellationToken).ConfigureAwait(false);
            return LineImageDecider.ParseLogged(Encoding.UTF8.GetString(bytes));
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}
