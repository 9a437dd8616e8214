using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line feed --server</c>: posts the images in batches to <c>POST /lines/{line}/images</c>, which decides them by the same
/// path as the server's intake queue and logs each image once (a re-fed image is answered from the log). An image the server
/// could not process for a reason of its own (<see cref="LineImageError.Unavailable"/>) is posted again, a few times.
/// </summary>
internal sealed class RemoteLineFeed(JobApiClient client, string line)
{
    /// <summary>Files per request: the API's limit.</summary>
    public const int BatchSize = 32;

    private const int Attempts = 3;

    /// <summary>The catalog version of the newest answer (0 before any).</summary>
    public int CatalogVersion { get; private set; }

    /// <summary>Posts <paramref name="files"/> and reports each one's decision (or error) to <paramref name="decided"/>.</summary>
    public async Task DecideAsync(IReadOnlyList<FeedFile> files, Action<FeedFile, LineImageResult> decided, CancellationToken cancellationToken)
    {
        foreach (var batch in files.Chunk(BatchSize))
        {
            var remaining = batch.ToList();
            for (var attempt = 1; remaining.Count > 0; attempt++)
            {
                var answer = await client.DecideLineImagesAsync(line, [.. remaining.Select(file => (file.Name, file.Bytes))], cancellationToken).ConfigureAwait(false);
                CatalogVersion = answer.CatalogVersion;
                var retry = new List<FeedFile>();
                for (var f = 0; f < remaining.Count; f++)
                {
                    var result = answer.Images[f];
                    if (result.Error?.Reason == LineImageError.Unavailable && attempt < Attempts)
                    {
                        retry.Add(remaining[f]);
                        continue;
                    }
                    decided(remaining[f], result);
                }
                remaining = retry;
                if (remaining.Count > 0)
                {
                    // The server's workers were busy or away: give them a moment, longer each time.
                    await Task.Delay(TimeSpan.FromSeconds(2 * attempt), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
