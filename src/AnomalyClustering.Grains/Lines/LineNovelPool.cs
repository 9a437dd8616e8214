using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// A line's pool of images decided <c>novel</c>, in the blob store beside its catalogs:
/// <c>{line}/novel/images/{decision ticks}-{image id}.json</c> per image (id, x_i, scores, time, catalog version; by name in
/// decision order), <c>novel/proposals.json</c> (the newest recluster's proposals), <c>novel/recluster-failure.json</c>
/// (the reclusters that failed, and why, newest first: <see cref="NewestFailures"/>) and <c>novel/settings.json</c> (<see cref="NovelPoolSettings"/>). An image is pooled once (by id); beyond the line's capacity the oldest leaves, so the
/// pool holds the newest novel images and a recluster stays O(capacity^2). A named proposal becomes a defect type of the
/// next catalog version and its members leave the pool. One instance is used by one caller at a time (the line's
/// <see cref="ILineNovelPoolGrain"/> on a server, one CLI command locally); it caches the pool's index after the first read.
/// </summary>
public sealed class LineNovelPool(IBlobStore store, LineCatalogStore catalogs, string prefix)
{
    /// <summary>The names a proposal cannot take: the decisions for an image of no known type and for one that failed.</summary>
    public static readonly IReadOnlyList<string> ReservedNames = [LineDecision.Novel, LineDecision.ErrorDecision];

    /// <summary>How many of the pool's image blobs a recluster reads at once.</summary>
    public const int ParallelReads = 8;

    private static readonly JsonSerializerOptions Json = LineImageDecider.LogJson;
    private List<(string Blob, string ImageId, long Ticks)>? index;

    /// <summary>The blob prefix of everything the pool stores: images, proposals, settings.</summary>
    public string NovelPrefix => prefix + "novel/";

    /// <summary>The blob prefix of the pool's images.</summary>
    public string ImagesPrefix => prefix + "novel/images/";

    private string ProposalsBlob => prefix + "novel/proposals.json";

    private string SettingsBlob => prefix + "novel/settings.json";

    private string FailureBlob => prefix + "novel/recluster-failure.json";

    /// <summary>What a recluster of an empty pool answers.</summary>
    public const string EmptyPoolMessage = "the line's novel pool is empty: no image has been decided novel since its last named proposal; feed it images first.";

    /// <summary>The line's pool settings (the defaults when none were stored).</summary>
    public async Task<NovelPoolSettings> SettingsAsync(CancellationToken cancellationToken) =>
        await ReadJsonAsync<NovelPoolSettings>(SettingsBlob, cancellationToken).ConfigureAwait(false) ?? new NovelPoolSettings();

    /// <summary>Stores the line's pool settings.</summary>
    /// <exception cref="InvalidClusteringInputException">A setting is out of range.</exception>
    public Task SaveSettingsAsync(NovelPoolSettings settings, CancellationToken cancellationToken)
    {
        Check(settings);
        return WriteJsonAsync(SettingsBlob, settings, cancellationToken);
    }

    /// <summary>Throws unless <paramref name="settings"/> are in range; the message names the setting.</summary>
    public static void Check(NovelPoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Capacity is < 1 or > NovelPoolSettings.MaximumCapacity)
        {
            throw new InvalidClusteringInputException($"the novel pool's capacity is {settings.Capacity}; it must be 1 to {NovelPoolSettings.MaximumCapacity} images.", nameof(settings.Capacity));
        }
        if (settings.ReclusterEvery < 0)
        {
            throw new InvalidClusteringInputException($"recluster-every is {settings.ReclusterEvery}; it must be 0 (never) or a number of novel images.", nameof(settings.ReclusterEvery));
        }
        if (settings.ClusterCount is < 1)
        {
            throw new InvalidClusteringInputException($"the recluster's number of clusters is {settings.ClusterCount}; it must be 1 or more, or automatic.", nameof(settings.ClusterCount));
        }
    }

    /// <summary>The number of pooled images.</summary>
    public async Task<int> CountAsync(CancellationToken cancellationToken) => (await IndexAsync(cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>
    /// Pools the images whose ids are not pooled yet and evicts the oldest beyond the capacity; returns how many joined.
    /// An image is written before it is indexed, so a failed write leaves no trace and a retry adds it.
    /// </summary>
    public async Task<int> AddAsync(IReadOnlyList<NovelPoolImage> images, NovelPoolSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(settings);
        var pooled = await IndexAsync(cancellationToken).ConfigureAwait(false);
        var known = pooled.Select(entry => entry.ImageId).ToHashSet(StringComparer.Ordinal);
        var added = 0;
        foreach (var image in images)
        {
            if (!known.Add(image.ImageId))
            {
                continue;
            }
            var ticks = image.DecidedAt.UtcTicks;
            var blob = ImagesPrefix + ticks.ToString("D19", CultureInfo.InvariantCulture) + "-" + image.ImageId + ".json";
            await WriteJsonAsync(blob, image, cancellationToken).ConfigureAwait(false);
            var at = pooled.FindLastIndex(entry => string.CompareOrdinal(entry.Blob, blob) < 0) + 1;
            pooled.Insert(at, (blob, image.ImageId, ticks));
            added++;
        }
        if (pooled.Count > settings.Capacity)
        {
            // A capacity lowered by thousands evicts thousands at once.
            var evicted = pooled.Count - settings.Capacity;
            await DeleteAsync([.. pooled.Take(evicted).Select(entry => entry.Blob)], cancellationToken).ConfigureAwait(false);
            pooled.RemoveRange(0, evicted);
        }
        return added;
    }

    /// <summary>Pooled images decided after the newest recluster ran (all of them before the first).</summary>
    public async Task<int> AddedSinceReclusterAsync(CancellationToken cancellationToken)
    {
        var pooled = await IndexAsync(cancellationToken).ConfigureAwait(false);
        var since = (await ProposalsAsync(cancellationToken).ConfigureAwait(false))?.CreatedAt.UtcTicks ?? long.MinValue;
        return pooled.Count(entry => entry.Ticks > since);
    }

    /// <summary>Every pooled image, oldest first, read <see cref="ParallelReads"/> at a time.</summary>
    public async Task<IReadOnlyList<NovelPoolImage>> ImagesAsync(CancellationToken cancellationToken)
    {
        var read = new Dictionary<string, NovelPoolImage?>(StringComparer.Ordinal);
        var pooled = await IndexAsync(cancellationToken).ConfigureAwait(false);
        for (var pass = 0; ; pass++)
        {
            var unread = pooled.Where(entry => !read.ContainsKey(entry.Blob)).Select(entry => entry.Blob).ToArray();
            var found = new NovelPoolImage?[unread.Length];
            // One blob per image: read in sequence, a full pool of 20,000 took a round trip each to the store.
            await Parallel.ForEachAsync(Enumerable.Range(0, unread.Length), new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
                async (i, token) => found[i] = await ReadJsonAsync<NovelPoolImage>(unread[i], token).ConfigureAwait(false)).ConfigureAwait(false);
            for (var i = 0; i < unread.Length; i++)
            {
                read[unread[i]] = found[i];
            }
            // An image evicted (or named) since the listing is gone, and the images that evicted it came in meanwhile: the pool
            // is listed again and the newcomers read, so that a recluster running beside additions clusters the pool as it
            // is once read, not a listing's survivors (a full pool lost a share of its images to every recluster). A few
            // passes: under a steady stream each pass reads only what arrived during the one before.
            if (!found.Any(image => image is null) || pass == 2)
            {
                break;
            }
            index = null;
            pooled = await IndexAsync(cancellationToken).ConfigureAwait(false);
            if (pooled.All(entry => read.ContainsKey(entry.Blob)))
            {
                break;
            }
        }
        return [.. pooled.Select(entry => read.GetValueOrDefault(entry.Blob)).OfType<NovelPoolImage>()];
    }

    /// <summary>The newest recluster's proposals, or null before the first.</summary>
    public Task<NovelProposalSet?> ProposalsAsync(CancellationToken cancellationToken) => ReadJsonAsync<NovelProposalSet>(ProposalsBlob, cancellationToken);

    /// <summary>
    /// The stored failures (<c>novel/recluster-failure.json</c>), newest first; empty when none has failed. A file of the
    /// earlier format, one failure, is read as a list of it.
    /// </summary>
    public async Task<IReadOnlyList<NovelReclusterFailure>> FailuresAsync(CancellationToken cancellationToken)
    {
        using var document = await ReadJsonAsync<JsonDocument>(FailureBlob, cancellationToken).ConfigureAwait(false);
        if (document is null)
        {
            return [];
        }
        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("failures", out _))
        {
            return NewestFailures(document.RootElement.Deserialize<StoredFailures>(Json)?.Failures ?? []);
        }
        return document.RootElement.Deserialize<NovelReclusterFailure>(Json) is { } single ? [single] : [];
    }

    /// <summary>
    /// Adds <paramref name="failures"/> to the stored ones (a failure stored already is kept once), keeping
    /// <see cref="NewestFailures"/>: a second failure no longer hides the first's from a client that polls for the first.
    /// </summary>
    public async Task StoreFailuresAsync(IReadOnlyList<NovelReclusterFailure> failures, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failures);
        var stored = await FailuresAsync(cancellationToken).ConfigureAwait(false);
        var kept = NewestFailures([.. failures, .. stored]);
        if (kept.Count == 0)
        {
            return;
        }
        // The newest failure's fields stay at the top, beside the list: a silo of the previous release (during a rolling
        // upgrade) reads the file as that one record, as it wrote it, instead of a record with its fields missing.
        // Unavailable is new in this release: an old silo's reader would refuse the file over it.
        var newest = kept[0].Error == NovelPoolError.Unavailable ? kept[0] with { Error = NovelPoolError.Invalid } : kept[0];
        var file = JsonSerializer.SerializeToNode(newest, Json)!.AsObject();
        file["failures"] = JsonSerializer.SerializeToNode(kept, Json);
        await WriteJsonAsync(FailureBlob, file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The failures a pool keeps, newest first: the newest automatic one (an automatic recluster that cannot cut the pool
    /// fails again at each trigger, and would push the requests' failures out) and the newest
    /// <see cref="NovelReclusterFailure.Kept"/> requested ones, each request once.
    /// </summary>
    public static IReadOnlyList<NovelReclusterFailure> NewestFailures(IEnumerable<NovelReclusterFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        var newestFirst = failures.OrderByDescending(failure => failure.FailedAt).ToList();
        return
        [
            .. newestFirst.Where(failure => failure.RequestId is not null).DistinctBy(failure => failure.RequestId).Take(NovelReclusterFailure.Kept)
                .Concat(newestFirst.Where(failure => failure.RequestId is null).Take(1))
                .OrderByDescending(failure => failure.FailedAt),
        ];
    }

    /// <summary>
    /// Clusters the pool (<see cref="NovelPoolClustering"/>: Ward, <paramref name="clusterCount"/> clusters or chosen
    /// automatically) and stores the proposals as the line's newest recluster, replacing the earlier ones:
    /// <see cref="ClusterAsync"/>, then <see cref="StoreAsync"/>.
    /// </summary>
    /// <exception cref="NovelPoolException">The pool is empty, or its images disagree in dimension.</exception>
    /// <exception cref="InvalidClusteringInputException">The number of clusters is outside 1..pool size.</exception>
    public async Task<NovelProposalSet> ReclusterAsync(int? clusterCount, DateTimeOffset now, CancellationToken cancellationToken) =>
        await StoreAsync(await ClusterAsync(clusterCount, false, now, cancellationToken).ConfigureAwait(false), null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Reads the pool as it is now and clusters it (<see cref="NovelPoolClustering"/>: Ward, <paramref name="clusterCount"/>
    /// clusters or chosen automatically; with <paramref name="atMostPoolSize"/> a K above the pool's size is cut to it, as
    /// an automatic recluster of a small pool needs), storing nothing. O(N^2 D) time: a caller that must stay responsive
    /// runs it off its own thread.
    /// </summary>
    /// <param name="clusterCount">K, or null to choose it.</param>
    /// <param name="atMostPoolSize">Cut K to the number of images read.</param>
    /// <param name="now">When the read starts: the stored set's <see cref="NovelProposalSet.CreatedAt"/>, so that images pooled later count as added since.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="NovelPoolException">The pool is empty, or its images disagree in dimension.</exception>
    /// <exception cref="InvalidClusteringInputException">The number of clusters is outside 1..pool size.</exception>
    public async Task<ClusteredPool> ClusterAsync(int? clusterCount, bool atMostPoolSize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var images = await ImagesAsync(cancellationToken).ConfigureAwait(false);
        if (images.Count == 0)
        {
            throw new NovelPoolException(NovelPoolError.EmptyPool, EmptyPoolMessage);
        }
        var dimension = images[^1].Embedding.Length;
        if (images.Any(image => image.Embedding.Length != dimension))
        {
            throw new NovelPoolException(NovelPoolError.Conflict,
                $"the pool holds embeddings of different dimensions (the line's catalogs changed backbone); only images of dimension {dimension} can be clustered together.");
        }
        var points = new float[images.Count * dimension];
        for (var i = 0; i < images.Count; i++)
        {
            images[i].Embedding.CopyTo(points, i * dimension);
        }
        var k = atMostPoolSize && clusterCount is { } given ? Math.Min(given, images.Count) : clusterCount;
        var clustering = NovelPoolClustering.Propose(points, images.Count, dimension, k);
        return new ClusteredPool([.. images.Select(image => image.ImageId)], clustering, now);
    }

    /// <summary>
    /// Stores <paramref name="clustered"/> as the line's newest recluster (the run after the stored one), replacing the
    /// earlier proposals; <paramref name="requestId"/> is the request it answers (null: automatic or local).
    /// </summary>
    public async Task<NovelProposalSet> StoreAsync(ClusteredPool clustered, string? requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clustered);
        var previous = await ProposalsAsync(cancellationToken).ConfigureAwait(false);
        var proposals = clustered.Clustering.Proposals.Select((proposal, p) => new NovelProposal(
            "p" + (p + 1).ToString(CultureInfo.InvariantCulture),
            proposal.Cluster.Size,
            proposal.Cluster.Spread,
            proposal.Cluster.Centroid,
            [.. proposal.Members.Select(m => clustered.ImageIds[m])])).ToList();
        var set = new NovelProposalSet((previous?.Run ?? 0) + 1, clustered.ReadAt, clustered.ImageIds.Count, clustered.Clustering.Automatic, proposals, requestId);
        await WriteJsonAsync(ProposalsBlob, set, cancellationToken).ConfigureAwait(false);
        return set;
    }

    /// <summary>
    /// Makes proposal <paramref name="proposalId"/> of the newest recluster a defect type named <paramref name="name"/>: the
    /// next catalog version is the newest one plus that cluster (centroid, size, spread as proposed; the rule, source and
    /// scoring unchanged), and the proposal's members leave the pool. Decisions made before keep their version.
    /// </summary>
    /// <exception cref="NovelPoolException">The line does not exist, there is no such proposal (or it was named), or the name is taken or reserved.</exception>
    public async Task<LineCatalog> NameAsync(string proposalId, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposalId);
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100 || name.Any(char.IsControl))
        {
            throw new NovelPoolException(NovelPoolError.Invalid, $"the name '{name}' is not valid; give 1-100 characters, not only spaces, without control characters.");
        }
        if (await catalogs.NewestAsync(prefix, cancellationToken).ConfigureAwait(false) is not { } newest)
        {
            throw new NovelPoolException(NovelPoolError.UnknownLine, $"the line at '{prefix}' has no catalog.");
        }
        var set = await ProposalsAsync(cancellationToken).ConfigureAwait(false);
        var proposal = set?.Proposals.FirstOrDefault(p => string.Equals(p.Id, proposalId, StringComparison.OrdinalIgnoreCase));
        if (set is null || proposal is null)
        {
            throw new NovelPoolException(NovelPoolError.UnknownProposal, set is null
                ? $"the line has no proposals; recluster its novel pool first."
                : $"recluster {set.Run} has no proposal '{proposalId}'; it has {string.Join(", ", set.Proposals.Select(p => p.Id))}.");
        }
        if (proposal.NamedAs is { } earlier)
        {
            throw new NovelPoolException(NovelPoolError.UnknownProposal,
                $"proposal '{proposal.Id}' was already named '{earlier}' (catalog version {proposal.CatalogVersion}); recluster the pool for new proposals.");
        }
        CheckNameFree(newest.Catalog, name);
        if (proposal.Centroid.Length != newest.Catalog.EmbeddingDimension)
        {
            throw new NovelPoolException(NovelPoolError.Conflict,
                $"proposal '{proposal.Id}' has embeddings of {proposal.Centroid.Length} values; the newest catalog has {newest.Catalog.EmbeddingDimension}.");
        }
        var cluster = new CatalogCluster(name, proposal.Size, proposal.Centroid, proposal.Spread);
        var catalog = await catalogs.AddAsync(prefix, version => version == newest.Catalog.Version + 1
            ? newest.Catalog with { Version = version, Clusters = [.. newest.Catalog.Clusters, cluster] }
            // Another version was stored since this one was read: its types may clash with the name, so the caller decides again.
            : throw new NovelPoolException(NovelPoolError.Conflict, $"the line got catalog version {version - 1} while proposal '{proposal.Id}' was being named; name it again."),
            cancellationToken).ConfigureAwait(false);
        var named = set with
        {
            Proposals = [.. set.Proposals.Select(p => p.Id == proposal.Id ? p with { NamedAs = name, CatalogVersion = catalog.Version } : p)],
        };
        await WriteJsonAsync(ProposalsBlob, named, cancellationToken).ConfigureAwait(false);
        await RemoveAsync(proposal.Members, cancellationToken).ConfigureAwait(false);
        return catalog;
    }

    private static void CheckNameFree(LineCatalog catalog, string name)
    {
        if (ReservedNames.Contains(name, StringComparer.OrdinalIgnoreCase)
            || catalog.Clusters.Any(cluster => string.Equals(cluster.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new NovelPoolException(NovelPoolError.NameClash, ReservedNames.Contains(name, StringComparer.OrdinalIgnoreCase)
                ? $"'{name}' is a decision of its own, not a defect type's name; choose another."
                : $"catalog version {catalog.Version} already has a defect type named '{name}'; choose another name.");
        }
    }

    private async Task RemoveAsync(IReadOnlyList<string> imageIds, CancellationToken cancellationToken)
    {
        var leaving = imageIds.ToHashSet(StringComparer.Ordinal);
        var pooled = await IndexAsync(cancellationToken).ConfigureAwait(false);
        await DeleteAsync([.. pooled.Where(entry => leaving.Contains(entry.ImageId)).Select(entry => entry.Blob)], cancellationToken).ConfigureAwait(false);
        pooled.RemoveAll(entry => leaving.Contains(entry.ImageId));
    }

    // One blob per image: deleted one after the other, a named proposal of thousands of images outlasted the grain call
    // that names it. A delete that failed leaves its image indexed by the next listing; the index of this instance drops
    // it only once every delete succeeded (the caller's error ends the instance's use).
    private Task DeleteAsync(IReadOnlyList<string> blobs, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = BlobStoreExtensions.ParallelDeletions, CancellationToken = cancellationToken },
            async (blob, token) => await store.DeleteAsync(blob, token).ConfigureAwait(false));

    private async Task<List<(string Blob, string ImageId, long Ticks)>> IndexAsync(CancellationToken cancellationToken)
    {
        if (index is not null)
        {
            return index;
        }
        var entries = new List<(string Blob, string ImageId, long Ticks)>();
        await foreach (var entry in store.ListAsync(ImagesPrefix, cancellationToken).ConfigureAwait(false))
        {
            var file = entry.Name[ImagesPrefix.Length..];
            if (file.Length > 25 && file[19] == '-' && file.EndsWith(".json", StringComparison.Ordinal)
                && long.TryParse(file.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            {
                entries.Add((entry.Name, file[20..^5], ticks));
            }
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Blob, b.Blob));
        return index = entries;
    }

    /// <summary>What <c>novel/recluster-failure.json</c> holds (until this version: one <see cref="NovelReclusterFailure"/>).</summary>
    private sealed record StoredFailures(IReadOnlyList<NovelReclusterFailure> Failures);

    private async Task<T?> ReadJsonAsync<T>(string blob, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var bytes = await store.ReadAllBytesAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize<T>(bytes, Json);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    private async Task WriteJsonAsync<T>(string blob, T value, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, Json), writable: false);
        await store.PutAsync(blob, content, overwrite: true, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A recluster's clustering of the pool, not stored yet (<see cref="LineNovelPool.StoreAsync"/>).</summary>
/// <param name="ImageIds">The images read, in pool order; the clustering's member indices point into it.</param>
/// <param name="Clustering">The proposals.</param>
/// <param name="ReadAt">When the pool was read.</param>
public sealed record ClusteredPool(IReadOnlyList<string> ImageIds, PoolClustering Clustering, DateTimeOffset ReadAt);
