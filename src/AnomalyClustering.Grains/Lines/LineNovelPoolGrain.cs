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
    // A fresh view per call: its index is one listing of the pool, so a line deleted and made again under the same name
    // (or a pool changed by the API's settings) is never seen through a stale index.
    private LineNovelPool Pool() => new(blobs, catalogs, this.GetPrimaryKeyString());

    /// <inheritdoc />
    public async Task Add(IReadOnlyList<NovelPoolImage> images)
    {
        var pool = Pool();
        var settings = await pool.SettingsAsync(CancellationToken.None).ConfigureAwait(true);
        if (await pool.AddAsync(images, settings, CancellationToken.None).ConfigureAwait(true) == 0 || settings.ReclusterEvery == 0
            || await pool.AddedSinceReclusterAsync(CancellationToken.None).ConfigureAwait(true) < settings.ReclusterEvery)
        {
            return;
        }
        try
        {
            var set = await pool.ReclusterAsync(settings.ClusterCount is { } k ? Math.Min(k, await pool.CountAsync(CancellationToken.None).ConfigureAwait(true)) : null,
                clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(true);
            LogReclustered(logger, this.GetPrimaryKeyString(), set.Run, set.PoolSize, set.Proposals.Count);
        }
        catch (Exception e) when (e is Core.Validation.InvalidClusteringInputException or NovelPoolException)
        {
            // The images are pooled and their decisions stand; an automatic recluster that cannot cut the pool (ties) waits
            // for the next images or a recluster on request, which reports the reason.
            LogReclusterFailed(logger, this.GetPrimaryKeyString(), e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<NovelProposalSet> Recluster(int? clusterCount)
    {
        try
        {
            return await Pool().ReclusterAsync(clusterCount, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(true);
        }
        catch (Core.Validation.InvalidClusteringInputException e)
        {
            // The caller may be another silo: a typed error of the line's own kind crosses it with its meaning.
            throw new NovelPoolException(NovelPoolError.Invalid, e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<int> Name(string proposalId, string name) => (await Pool().NameAsync(proposalId, name, CancellationToken.None).ConfigureAwait(true)).Version;

    [LoggerMessage(Level = LogLevel.Information, Message = "Line {Line}: novel pool reclustered automatically (run {Run}, {PoolSize} images, {Proposals} proposals)")]
    private static partial void LogReclustered(ILogger logger, string line, int run, int poolSize, int proposals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Line {Line}: the automatic recluster of the novel pool failed: {Reason}")]
    private static partial void LogReclusterFailed(ILogger logger, string line, string reason);
}
