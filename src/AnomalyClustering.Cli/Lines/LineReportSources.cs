using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Lines;

/// <summary>Where <c>line report</c> reads a line's decisions, images and patch weights: the local store, or a server.</summary>
internal interface ILineReportSource
{
    /// <summary>Every decision made in [<paramref name="since"/>, <paramref name="until"/>), page by page, in log order.</summary>
    Task<IReadOnlyList<LineDecision>> DecisionsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>The bytes of a decided image, or null when the line does not hold them (an edge gateway's blob elsewhere).</summary>
    Task<byte[]?> ImageAsync(string imageId, CancellationToken cancellationToken);

    /// <summary>The image's patch weights (row-major on the patch grid), or null without an outcome.</summary>
    Task<float[]?> PatchWeightsAsync(string imageId, CancellationToken cancellationToken);
}

/// <summary>A line of the local store (the embedded silo's blobs); its log is read as its Parquet parts hold it.</summary>
internal sealed class LocalLineReportSource(string storeFolder, string line) : ILineReportSource
{
    private const int PageSize = 1000;
    private readonly LocalDirectoryBlobStore store = new(storeFolder);
    private readonly string prefix = LocalLineStore.PrefixOf(line);

    /// <inheritdoc />
    public async Task<IReadOnlyList<LineDecision>> DecisionsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var decisions = new List<LineDecision>();
        string? next = null;
        do
        {
            var slice = await LineDecisionLog.PageAsync(store, prefix, since, until, PageSize, next, cancellationToken).ConfigureAwait(false);
            decisions.AddRange(slice.Decisions);
            next = slice.Next;
        }
        while (next is not null);
        return decisions;
    }

    /// <inheritdoc />
    public async Task<byte[]?> ImageAsync(string imageId, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ReadAllBytesAsync(LineBlobNames.ImageOf(prefix, imageId), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<float[]?> PatchWeightsAsync(string imageId, CancellationToken cancellationToken) =>
        LineImageOutcomes.ReadPatchWeightsAsync(store, prefix, imageId, cancellationToken);
}

/// <summary>A line on a server: <c>GET /lines/{name}/decisions</c> page by page, and its images' bytes and weights.</summary>
internal sealed class RemoteLineReportSource(JobApiClient client, string line) : ILineReportSource
{
    private const int PageSize = 1000;

    /// <inheritdoc />
    public async Task<IReadOnlyList<LineDecision>> DecisionsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var decisions = new List<LineDecision>();
        string? next = null;
        do
        {
            var page = await client.GetLineDecisionsAsync(line, since, until, PageSize, next, cancellationToken).ConfigureAwait(false);
            decisions.AddRange(page.Decisions);
            next = page.Next;
        }
        while (next is not null);
        return decisions;
    }

    /// <inheritdoc />
    public Task<byte[]?> ImageAsync(string imageId, CancellationToken cancellationToken) => client.GetLineImageAsync(line, imageId, cancellationToken);

    /// <inheritdoc />
    public Task<float[]?> PatchWeightsAsync(string imageId, CancellationToken cancellationToken) => client.GetLineImageWeightsAsync(line, imageId, cancellationToken);
}
