using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>One cluster of a line's novel pool that may become a named defect type: the catalog cluster it would be, and its members.</summary>
/// <param name="Cluster">Centroid, size and spread as a catalog holds them (its name is the proposal's id until someone names it).</param>
/// <param name="Members">Indices of its members in the clustered pool, ascending.</param>
public sealed record PoolProposal(CatalogCluster Cluster, IReadOnlyList<int> Members);

/// <summary>What <see cref="NovelPoolClustering.Propose"/> found.</summary>
/// <param name="Proposals">One per cluster of the cut, largest first (ties: the cluster of the lower first member).</param>
/// <param name="Automatic">True when the number of clusters was chosen by <see cref="ClusterCountSelector"/>.</param>
public sealed record PoolClustering(IReadOnlyList<PoolProposal> Proposals, bool Automatic);

/// <summary>
/// Clusters a production line's pool of novel images into proposals for new defect types with the product's own method:
/// Ward linkage of the pool's embeddings x_i (<see cref="HierarchicalClustering"/>), cut into K clusters, K given or chosen
/// without labels (<see cref="ClusterCountSelector"/>, silhouette by default); each cluster becomes what a catalog would
/// hold (<see cref="LineCatalogBuilder.FromCut"/>), so that a named proposal is assigned to exactly as the job's clusters are.
/// O(N^2) memory and O(N^2 D) time for N pooled images; the pool is bounded so that N stays in the low thousands.
/// </summary>
public static class NovelPoolClustering
{
    /// <summary>
    /// The proposals for the <paramref name="count"/> pooled embeddings (row-major, <paramref name="dimension"/> values each).
    /// <paramref name="clusterCount"/> null chooses K with <paramref name="search"/> (its range clipped to N - 1); a pool of
    /// fewer than 3 images, too few for the criterion, is one proposal then.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">An empty pool, K outside 1..N, shapes that disagree, or a value that is not finite.</exception>
    public static PoolClustering Propose(ReadOnlySpan<float> embeddings, int count, int dimension, int? clusterCount, ClusterCountSearch? search = null)
    {
        if (count < 1)
        {
            throw new InvalidClusteringInputException("the novel pool is empty; feed the line images until some are flagged novel, then recluster.", nameof(count));
        }
        if (dimension < 1 || embeddings.Length != (long)count * dimension)
        {
            throw new InvalidClusteringInputException($"expected {count} embeddings of {dimension} values, got {embeddings.Length} floats.", nameof(embeddings));
        }
        if (clusterCount is { } k && (k < 1 || k > count))
        {
            throw new InvalidClusteringInputException($"the pool holds {count} images; the number of clusters must be between 1 and {count}, not {k}.", nameof(clusterCount));
        }
        int[] cut;
        var automatic = clusterCount is null;
        if (count == 1 || clusterCount == 1 || (automatic && count < 3))
        {
            // The linkage refuses a single point; one cluster needs no tree.
            cut = new int[count];
        }
        else
        {
            var tree = HierarchicalClustering.Linkage(embeddings, count, dimension, LinkageMethod.Ward);
            if (clusterCount is { } given)
            {
                cut = tree.CutToClusters(given);
            }
            else
            {
                var range = search ?? new ClusterCountSearch();
                range.Validate();
                range = range with { MaximumClusterCount = Math.Min(range.MaximumClusterCount, count - 1), MinimumClusterCount = Math.Min(range.MinimumClusterCount, count - 1) };
                cut = tree.CutToClusters(ClusterCountSelector.Select(tree, embeddings, dimension, range).ClusterCount);
            }
        }
        var clusters = cut.Max() + 1;
        var names = Enumerable.Range(0, clusters).Select(c => $"proposal {c + 1}").ToArray();
        var built = LineCatalogBuilder.FromCut(embeddings, count, dimension, cut, names);
        var members = new List<int>[clusters];
        for (var c = 0; c < clusters; c++)
        {
            members[c] = [];
        }
        for (var i = 0; i < count; i++)
        {
            members[cut[i]].Add(i);
        }
        // Largest first: the proposal most worth naming leads; the cut numbers clusters by first member, a stable tie-break.
        var proposals = Enumerable.Range(0, clusters)
            .OrderByDescending(c => members[c].Count).ThenBy(c => c)
            .Select(c => new PoolProposal(built[c], members[c]))
            .ToList();
        return new PoolClustering(proposals, automatic);
    }
}
