using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// One query bag packed once and compared with many references, reusing every buffer: the shared
/// machinery behind <see cref="NearestPatchDistances"/>, the unsupervised and the semi-supervised scores.
/// Inputs are assumed shape-checked by the public callers; reference values are checked while packing.
/// Not thread-safe.
/// </summary>
/// <remarks>
/// Two ways to use the processors, chosen per batch, with bit-identical results:
/// a single reference (or a few) splits the query rows over the workers, with a barrier per reference;
/// a batch of at least two references per worker gives each worker whole references (its own packed copy,
/// its own tile), handed out dynamically, so no worker waits on another until the batch ends.
/// </remarks>
internal sealed class NearestPatchRunner
{
    /// <summary>References per batch in the per-worker mode: bounds the result buffers to Batch x M doubles.</summary>
    internal const int Batch = 64;

    private readonly NearestPatchSearch splitSearch;
    private readonly PanelMatrix query = new(NearestPatchSearch.QueryPanelWidth);
    private readonly Lane[] lanes;
    private readonly Exception?[] failures = new Exception?[Batch];
    private double[][] rowResults = [];
    private double[][] columnResults = [];

    /// <summary>Creates a runner on at most <paramref name="maxDegreeOfParallelism"/> threads (-1: all).</summary>
    public NearestPatchRunner(int maxDegreeOfParallelism, bool allowFastKernel = true)
    {
        var degree = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        splitSearch = new NearestPatchSearch(degree, allowFastKernel);
        lanes = new Lane[Math.Max(1, degree)];
        for (var w = 0; w < lanes.Length; w++)
        {
            lanes[w] = new Lane(new NearestPatchSearch(1, allowFastKernel));
        }
    }

    /// <summary>Packs the query bag. O(M T).</summary>
    public void SetQuery(PatchBag bag) => query.Pack(bag.Data, bag.PatchCount, bag.Dimension);

    /// <summary>distances[k] = min_l ||a_k - b_l|| against one reference bag, query rows split over the workers. O(M M' T).</summary>
    public void Nearest(PatchBag referenceBag, Span<double> distances, int referenceIndex = -1)
    {
        var lane = lanes[0];
        PackReference(lane, splitSearch, referenceBag, referenceIndex);
        splitSearch.Search(query, lane.Reference, columns: false);
        splitSearch.RowDistance.AsSpan(0, query.Rows).CopyTo(distances);
    }

    /// <summary>distances[k] = min over the bank's patches of ||a_k - t||, query rows split over the workers. O(M P T).</summary>
    public void Nearest(NormalBank bank, Span<double> distances)
    {
        splitSearch.Search(query, bank.Packed, columns: false);
        splitSearch.RowDistance.AsSpan(0, query.Rows).CopyTo(distances);
    }

    /// <summary>
    /// Adds min_l ||a_k - b_l|| of every reference to totals[k], in list order (so the sum is the same
    /// whatever the parallel mode). O(R M M' T).
    /// </summary>
    public void AddNearest(IReadOnlyList<PatchBag> references, Span<double> totals)
    {
        for (var first = 0; first < references.Count; first += Batch)
        {
            var count = Math.Min(Batch, references.Count - first);
            NearestToEach(references, first, count, columns: false);
            for (var c = 0; c < count; c++)
            {
                var rows = rowResults[c];
                for (var k = 0; k < totals.Length; k++)
                {
                    totals[k] += rows[k];
                }
            }
        }
    }

    /// <summary>
    /// For references[first .. first+count) (count at most <see cref="Batch"/>): the query's nearest distances
    /// into <see cref="RowResult"/>(c), and with <paramref name="columns"/> each reference's nearest distances
    /// among the query patches into <see cref="ColumnResult"/>(c), from one product per pair. O(count M M' T).
    /// </summary>
    public void NearestToEach(IReadOnlyList<PatchBag> references, int first, int count, bool columns)
    {
        EnsureResults(references, first, count, columns);
        if (lanes.Length == 1 || count < 2 * lanes.Length)
        {
            for (var c = 0; c < count; c++)
            {
                RunPair(lanes[0], splitSearch, references[first + c], first + c, c, columns);
            }
            return;
        }
        Array.Clear(failures);
        var next = -1;
        Parallel.For(0, lanes.Length, new ParallelOptions { MaxDegreeOfParallelism = lanes.Length }, w =>
        {
            var lane = lanes[w];
            int c;
            while ((c = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    RunPair(lane, lane.Search, references[first + c], first + c, c, columns);
                }
                catch (Exception error)
                {
                    failures[c] = error;
                }
            }
        });
        // The lowest failing reference is reported, whatever the scheduling.
        foreach (var failure in failures.AsSpan(0, count))
        {
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
    }

    /// <summary>After <see cref="NearestToEach"/>: the query's nearest distances to reference first + c (length M).</summary>
    public double[] RowResult(int c) => rowResults[c];

    /// <summary>After <see cref="NearestToEach"/> with columns: reference first + c's nearest distances among the query patches (length M').</summary>
    public double[] ColumnResult(int c) => columnResults[c];

    private void RunPair(Lane lane, NearestPatchSearch search, PatchBag referenceBag, int referenceIndex, int slot, bool columns)
    {
        PackReference(lane, search, referenceBag, referenceIndex);
        search.Search(query, lane.Reference, columns);
        search.RowDistance.AsSpan(0, query.Rows).CopyTo(rowResults[slot]);
        if (columns)
        {
            search.ColumnDistance.AsSpan(0, referenceBag.PatchCount).CopyTo(columnResults[slot]);
        }
    }

    private static void PackReference(Lane lane, NearestPatchSearch search, PatchBag referenceBag, int referenceIndex)
    {
        lane.Reference.Resize(referenceBag.PatchCount, referenceBag.Dimension, referenceBag.Data);
        search.Pack(lane.Reference);
        if (!lane.Reference.NormsAreFinite)
        {
            ScoringInput.ThrowNotFinite(referenceBag, referenceIndex < 0 ? "reference" : $"references[{referenceIndex}]");
        }
    }

    private void EnsureResults(IReadOnlyList<PatchBag> references, int first, int count, bool columns)
    {
        if (rowResults.Length < Batch)
        {
            rowResults = new double[Batch][];
            columnResults = new double[Batch][];
        }
        for (var c = 0; c < count; c++)
        {
            if (rowResults[c] is null || rowResults[c].Length != query.Rows)
            {
                rowResults[c] = new double[query.Rows];
            }
            var referenceRows = references[first + c].PatchCount;
            if (columns && (columnResults[c] is null || columnResults[c].Length != referenceRows))
            {
                columnResults[c] = new double[referenceRows];
            }
        }
    }

    /// <summary>What one worker owns in the per-reference mode: its engine and its packed reference.</summary>
    private sealed class Lane(NearestPatchSearch search)
    {
        public NearestPatchSearch Search { get; } = search;

        public PanelMatrix Reference { get; } = new(NearestPatchSearch.ReferencePanelWidth);
    }
}
