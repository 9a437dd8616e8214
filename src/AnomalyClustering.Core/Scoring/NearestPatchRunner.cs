using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// One query bag packed once and compared with many references, reusing every buffer: the shared
/// machinery behind <see cref="NearestPatchDistances"/>, the unsupervised and the semi-supervised scores.
/// Inputs are assumed validated by the public callers. Not thread-safe.
/// </summary>
internal sealed class NearestPatchRunner
{
    private readonly NearestPatchSearch search;
    private readonly PanelMatrix query = new(NearestPatchSearch.QueryPanelWidth);
    private readonly PanelMatrix reference = new(NearestPatchSearch.ReferencePanelWidth);

    /// <summary>Creates a runner on at most <paramref name="maxDegreeOfParallelism"/> threads (-1: all).</summary>
    public NearestPatchRunner(int maxDegreeOfParallelism, bool allowFastKernel = true)
    {
        search = new NearestPatchSearch(maxDegreeOfParallelism, allowFastKernel);
    }

    /// <summary>Patches of the current query.</summary>
    public int QueryPatchCount => query.Rows;

    /// <summary>Packs the query bag. O(M T).</summary>
    public void SetQuery(PatchBag bag) => query.Pack(bag.Data, bag.PatchCount, bag.Dimension);

    /// <summary>
    /// distances[k] = min_l ||a_k - b_l|| against one reference bag. Non-finite reference values are caught
    /// through the squared norms computed while packing (no extra pass over the data). O(M M' T).
    /// </summary>
    public void Nearest(PatchBag referenceBag, Span<double> distances, int referenceIndex = -1)
    {
        PackReference(referenceBag, referenceIndex);
        search.Search(query, reference, columns: false);
        search.RowDistance.AsSpan(0, query.Rows).CopyTo(distances);
    }

    /// <summary>
    /// Both directions from one product: queryDistances[k] = min_l ||a_k - b_l|| and
    /// referenceDistances[l] = min_k ||a_k - b_l||. O(M M' T), half the work of two calls.
    /// </summary>
    public void NearestBothWays(PatchBag referenceBag, Span<double> queryDistances, Span<double> referenceDistances)
    {
        PackReference(referenceBag, -1);
        search.Search(query, reference, columns: true);
        search.RowDistance.AsSpan(0, query.Rows).CopyTo(queryDistances);
        search.ColumnDistance.AsSpan(0, reference.Rows).CopyTo(referenceDistances);
    }

    /// <summary>distances[k] = min over the bank's patches of ||a_k - t||. O(M P T).</summary>
    public void Nearest(NormalBank bank, Span<double> distances)
    {
        search.Search(query, bank.Packed, columns: false);
        search.RowDistance.AsSpan(0, query.Rows).CopyTo(distances);
    }

    private void PackReference(PatchBag referenceBag, int referenceIndex)
    {
        reference.Resize(referenceBag.PatchCount, referenceBag.Dimension, referenceBag.Data);
        search.Pack(reference);
        if (!reference.NormsAreFinite)
        {
            ScoringInput.ThrowNotFinite(referenceBag, referenceIndex < 0 ? "reference" : $"references[{referenceIndex}]");
        }
    }
}
