using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// Nearest-patch distances between bags: out[k] = min_l ||a_k - b_l||_2 (Euclidean, not squared),
/// the kernel of every patch score in METHOD section 2.
/// </summary>
/// <remarks>
/// Computed by a blocked, packed SGEMM-style AVX2/FMA kernel with the minimum fused into the tile scan
/// (the M x M' distance matrix is never stored), on all processors by default; the chosen nearest
/// patch's distance is then recomputed exactly in double precision. O(M M' T) flops per pair,
/// O(M T + M' T) memory. Results are deterministic and do not depend on the degree of parallelism.
/// </remarks>
public static class NearestPatchDistances
{
    /// <summary>For every patch of <paramref name="query"/>, the distance to its nearest patch in <paramref name="reference"/>. O(M M' T).</summary>
    public static double[] Compute(PatchBag query, PatchBag reference, int maxDegreeOfParallelism = -1)
    {
        ScoringInput.CheckBag(query, nameof(query));
        var distances = new double[query.PatchCount];
        Compute(query, reference, distances, maxDegreeOfParallelism);
        return distances;
    }

    /// <summary>Writes distances[k] = min_l ||a_k - b_l|| (length M). O(M M' T).</summary>
    public static void Compute(PatchBag query, PatchBag reference, Span<double> distances, int maxDegreeOfParallelism = -1)
    {
        ScoringInput.CheckBag(query, nameof(query));
        ScoringInput.CheckBag(reference, nameof(reference));
        ScoringInput.CheckDimension(reference.Dimension, query.Dimension, nameof(reference));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        Guard.Length(distances.Length, query.PatchCount, nameof(distances));
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        runner.SetQuery(query);
        runner.Nearest(reference, distances);
    }

    /// <summary>
    /// Adds, for every reference bag in list order, min_l ||a_k - b_l|| to sums[k] (length M): the
    /// numerator of the unsupervised score. Accumulating lets a caller feed references in batches.
    /// The query is packed once; O(R M M' T) flops. With at least two references per processor each
    /// processor takes whole references (no waiting between them); with fewer they share each one.
    /// On a non-finite reference it throws and leaves <paramref name="sums"/> unchanged.
    /// </summary>
    public static void Accumulate(PatchBag query, IReadOnlyList<PatchBag> references, Span<double> sums, int maxDegreeOfParallelism = -1)
    {
        ScoringInput.CheckBag(query, nameof(query));
        ScoringInput.CheckShapes(references, query.Dimension, nameof(references));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        Guard.Length(sums.Length, query.PatchCount, nameof(sums));
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        runner.SetQuery(query);
        // References' values are checked while they are packed; totals go to the caller only once all passed.
        var totals = new double[query.PatchCount];
        runner.AddNearest(references, totals);
        for (var k = 0; k < totals.Length; k++)
        {
            sums[k] += totals[k];
        }
    }

    /// <summary>
    /// ||a - b||_2 computed exactly as every nearest-patch distance here is once its patch was chosen: in double precision
    /// from the float32 values, in a fixed order (the same value on every machine). Other nearest-patch searches (the ONNX
    /// kernel of GPU workers) use it so that the same choice gives the same score. O(T).
    /// </summary>
    public static double Exact(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Guard.Length(b.Length, a.Length, nameof(b));
        return NearestPatchSearch.ExactDistance(a, b);
    }

    /// <summary>Writes distances[k] = min over the bank's patches t of ||a_k - t|| (length M). O(M P T).</summary>
    public static void Compute(PatchBag query, NormalBank bank, Span<double> distances, int maxDegreeOfParallelism = -1)
    {
        ScoringInput.CheckBag(query, nameof(query));
        ArgumentNullException.ThrowIfNull(bank);
        ScoringInput.CheckDimension(bank.Dimension, query.Dimension, nameof(bank));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        Guard.Length(distances.Length, query.PatchCount, nameof(distances));
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        runner.SetQuery(query);
        runner.Nearest(bank, distances);
    }
}
