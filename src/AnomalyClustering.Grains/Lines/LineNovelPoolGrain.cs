using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// The novel pool of one line (<see cref="LineNovelPool"/>), one activation per line: additions, reclusters and naming
/// take turns, so the pool's bound holds and a recluster sees a settled pool. When the line's
/// <see cref="NovelPoolSettings.ReclusterEvery"/> is M &gt; 0, the addition that brings the images pooled since the last
/// recluster to M reclusters at once (within that call: the decisions are logged already, so only the caller waits).
/// </summary>
[RequiredSiloRole(SiloRoles.Coordinator)]
internal sealed partial class LineNovelPoolGrain(IBlobStore blobs, LineCatalogStore catalogs, TimeProvider clock, ILogger<LineNovelPoolGrain> logger)
    : Grain, ILineNovelPoolGrain
{
    private LineNovelPool? pool;

    private LineNovelPool Pool => pool ??= new LineNovelPool(blobs, catalogs, this.GetPrimaryKeyString());

    /// <inheritdoc />
    public async Task Add(IReadOnlyList<NovelPoolImage> images)
    {
        var settings = await Pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
        if (await Pool.AddAsync(images, settings, CancellationToken.None).ConfigureAwait(true) == 0 || settings.ReclusterEvery == 0)
        {
            return;
        }
        if (await Pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) >= settings.ReclusterEvery)
        {
            var set = await Pool.ReclusterAsync(settings.ClusterCount is { } k ? Math.Min(k, await Pool.CountAsync(CancellationToken.None).ConfigureAwait(true)) : null,
                clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(true);
            LogReclustered(logger, this.GetPrimaryKeyString(), set.Run, set.PoolSize, set.Proposals.Count);
        }
    }

    /// <inheritdoc />
    public async Task<NovelProposalSet> Recluster(int? clusterCount)
    {
        try
        {
            return await Pool.ReclusterAsync(clusterCount, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(true);
        }
        catch (Core.Validation.InvalidClusteringInputException e)
        {
            // The caller may be another silo: a typed error of the line's own kind crosses it with its meaning.
            throw new NovelPoolException(NovelPoolError.Invalid, e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<int> Name(string proposalId, string name) => (await Pool.NameAsync(proposalId, name, CancellationToken.None).ConfigureAwait(true)).Version;

    [LoggerMessage(Level = LogLevel.Information, Message = "Line {Line}: novel pool reclustered automatically (run {Run}, {PoolSize} images, {Proposals} proposals)")]
    private static partial void LogReclustered(ILogger logger, string line, int run, int poolSize, int proposals);
}
