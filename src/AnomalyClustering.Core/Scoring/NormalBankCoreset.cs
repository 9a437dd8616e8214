using System.Runtime.Intrinsics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// PatchCore's approximate greedy k-centre coreset of the normal patches (METHOD section 7): a subset
/// of the bank whose every patch is near a kept one, to bound the semi-supervised search.
/// </summary>
/// <remarks>
/// <para>
/// Algorithm (PatchCore's ApproximateGreedyCoresetSampler): project the P patches to D dimensions with a
/// seeded random linear map (entries uniform in ±1/sqrt(T), like torch.nn.Linear's default; skipped
/// when T &lt;= D); draw S starting patches (seeded, distinct); start each patch's value at its mean
/// distance to them; then C times: keep the patch with the largest value (lowest index on ties) and
/// lower every value to its distance to the kept patch if that is smaller.
/// </para>
/// <para>
/// Cost O(P T D) for the projection plus O(P D (S + C)) for the selection (at most; patches that the triangle
/// inequality shows cannot move are skipped, plus O(C^2 D) for the kept patches' distances), O(P D) memory; both phases
/// run on all processors. Every arithmetic step has a fixed order (no fused multiply-add, fixed lane
/// reduction), so the same seed selects the same patches on every machine and degree of parallelism.
/// </para>
/// </remarks>
public static class NormalBankCoreset
{
    /// <summary>PatchCore's default projection dimension.</summary>
    public const int DefaultProjectionDimension = 128;

    /// <summary>PatchCore's default number of starting points.</summary>
    public const int DefaultStartingPoints = 10;

    /// <summary>
    /// Indices (into the concatenated patches of <paramref name="normalBags"/>, in selection order) of a
    /// greedy coreset of <paramref name="coresetSize"/> patches. O(P T D + P D (S + C)).
    /// Throws for no bags, mixed dimensions, non-finite values or a size outside [1, P].
    /// </summary>
    public static int[] SelectIndices(IReadOnlyList<PatchBag> normalBags, int coresetSize, ulong seed,
        int projectionDimension = DefaultProjectionDimension, int startingPoints = DefaultStartingPoints, int maxDegreeOfParallelism = -1)
    {
        var (rows, count, dimension) = Concatenate(normalBags);
        Guard.AtLeast(coresetSize, 1, nameof(coresetSize));
        if (coresetSize > count)
        {
            throw new InvalidClusteringInputException(
                $"coresetSize is {coresetSize} but the normal images hold only {count} patches; choose at most {count}.", nameof(coresetSize));
        }
        Guard.AtLeast(projectionDimension, 1, nameof(projectionDimension));
        Guard.AtLeast(startingPoints, 1, nameof(startingPoints));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        var random = new SplitMix64(seed);
        var (features, width) = dimension <= projectionDimension
            ? (rows, dimension)
            : (Project(rows, count, dimension, projectionDimension, ref random, maxDegreeOfParallelism), projectionDimension);
        return Greedy(features, count, width, coresetSize, Math.Min(startingPoints, count), ref random, maxDegreeOfParallelism);
    }

    /// <summary>
    /// A normal bank of the coreset that keeps <paramref name="fraction"/> of the patches
    /// (PatchCore's percentage: size = floor(P x fraction), at least 1). O(P T D + P D (S + C)).
    /// </summary>
    public static NormalBank Build(IReadOnlyList<PatchBag> normalBags, double fraction, ulong seed,
        int projectionDimension = DefaultProjectionDimension, int startingPoints = DefaultStartingPoints, int maxDegreeOfParallelism = -1) =>
        Select(normalBags, fraction, seed, projectionDimension, startingPoints, maxDegreeOfParallelism).ToBank();

    /// <summary>
    /// The coreset that keeps <paramref name="fraction"/> of the patches (as <see cref="Build"/>), with the normal image each
    /// kept patch came from, so that a normal image can also be scored against the coreset without its own patches.
    /// O(P T D + P D (S + C)).
    /// </summary>
    public static NormalCoreset Select(IReadOnlyList<PatchBag> normalBags, double fraction, ulong seed,
        int projectionDimension = DefaultProjectionDimension, int startingPoints = DefaultStartingPoints, int maxDegreeOfParallelism = -1)
    {
        CheckFraction(fraction);
        var (rows, count, dimension) = Concatenate(normalBags);
        var size = Math.Max(1, (int)(count * fraction));
        var indices = SelectIndices(normalBags, size, seed, projectionDimension, startingPoints, maxDegreeOfParallelism);
        var firstPatch = new int[normalBags.Count + 1];
        for (var n = 0; n < normalBags.Count; n++)
        {
            firstPatch[n + 1] = firstPatch[n] + normalBags[n].PatchCount;
        }
        var kept = new float[indices.Length * dimension];
        var owners = new int[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            rows.AsSpan(indices[i] * dimension, dimension).CopyTo(kept.AsSpan(i * dimension));
            // The last image whose first patch is at or before the index (bags of no patches are never owners).
            var owner = Array.BinarySearch(firstPatch, indices[i]);
            owner = owner >= 0 ? owner : ~owner - 1;
            while (firstPatch[owner + 1] == indices[i])
            {
                owner++;
            }
            owners[i] = owner;
        }
        return new NormalCoreset(kept, owners, dimension, normalBags.Count);
    }

    // Throws InvalidClusteringInputException unless the fraction is in (0, 1] (NaN included). A job's options allow 0 too
    // (no coreset) and say so in their own check (ClusteringJobOptions).
    private static void CheckFraction(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1))
        {
            throw new InvalidClusteringInputException($"The coreset fraction is {fraction}; it must be in (0, 1] (PatchCore uses 0.1 or 0.01).", nameof(fraction));
        }
    }

    private static (float[] Rows, int Count, int Dimension) Concatenate(IReadOnlyList<PatchBag> normalBags)
    {
        ArgumentNullException.ThrowIfNull(normalBags);
        if (normalBags.Count == 0)
        {
            throw new InvalidClusteringInputException("A coreset needs at least one normal image.", nameof(normalBags));
        }
        ScoringInput.CheckBag(normalBags[0], "normalBags[0]");
        var dimension = normalBags[0].Dimension;
        ScoringInput.CheckBags(normalBags, dimension, nameof(normalBags));
        var total = normalBags.Sum(b => (long)b.PatchCount);
        if (total * dimension > Array.MaxLength)
        {
            throw new InvalidClusteringInputException($"{total} normal patches x {dimension} floats do not fit one array; use fewer normal images.", nameof(normalBags));
        }
        var rows = new float[total * dimension];
        var offset = 0;
        foreach (var bag in normalBags)
        {
            bag.Data.CopyTo(rows, offset);
            offset += bag.Data.Length;
        }
        return (rows, (int)total, dimension);
    }

    /// <summary>rows (count x dimension) times a seeded dimension x width map with entries uniform in ±1/sqrt(dimension). O(count dimension width).</summary>
    private static float[] Project(float[] rows, int count, int dimension, int width, ref SplitMix64 random, int maxDegreeOfParallelism)
    {
        // Stored transposed (width rows of length dimension) so that each output is one fixed-order dot product.
        var map = new float[width * dimension];
        var bound = 1.0 / Math.Sqrt(dimension);
        for (var i = 0; i < map.Length; i++)
        {
            // 24 random bits -> a float in [0, 1) without rounding, then scaled to [-bound, bound).
            var unit = (random.Next() >> 40) * (1.0 / (1 << 24));
            map[i] = (float)((2 * unit - 1) * bound);
        }
        var projected = new float[count * width];
        Parallel.For(0, count, Options(maxDegreeOfParallelism), row =>
        {
            var source = rows.AsSpan(row * dimension, dimension);
            for (var j = 0; j < width; j++)
            {
                projected[row * width + j] = FixedOrderDot(source, map.AsSpan(j * dimension, dimension));
            }
        });
        return projected;
    }

    private static int[] Greedy(float[] features, int count, int width, int size, int startingPoints, ref SplitMix64 random, int maxDegreeOfParallelism)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }
        for (var t = 0; t < startingPoints && t < count - 1; t++)
        {
            var swapWith = t + (int)random.NextBelow((ulong)(count - t));
            (order[t], order[swapWith]) = (order[swapWith], order[t]);
        }
        var starts = order[..startingPoints];
        var value = new float[count];
        var options = Options(maxDegreeOfParallelism);
        Parallel.For(0, count, options, row =>
        {
            var point = features.AsSpan(row * width, width);
            var sum = 0f;
            foreach (var start in starts)
            {
                sum += FixedOrderDistance(point, features.AsSpan(start * width, width));
            }
            value[row] = sum / starts.Length;
        });
        var chunks = Math.Max(1, Math.Min(options.MaxDegreeOfParallelism * 4, count / 4096 + 1));
        var chunkBest = new int[chunks];
        var selected = new int[size];
        // Each patch's nearest kept patch (its place in `selected`; -1 while its value is still the starting mean), and the
        // new centre's distance to every kept one: by the triangle inequality a patch whose nearest kept patch is more than
        // twice its value away from the new centre is at least its value away from the new centre, so it is skipped without
        // reading its features. The selection is that of the plain loop (the margin covers float rounding); only memory
        // traffic drops, which bounds this loop (P x D floats read per kept patch otherwise).
        var nearest = new int[count];
        nearest.AsSpan().Fill(-1);
        var centreDistance = new float[size];
        var chosen = ArgMax(value, 0, count);
        for (var s = 0; s < size; s++)
        {
            selected[s] = chosen;
            var centre = chosen;
            var kept = s;
            Parallel.For(0, chunks, options, chunk =>
            {
                var first = (int)((long)kept * chunk / chunks);
                var end = (int)((long)kept * (chunk + 1) / chunks);
                var centreFeatures = features.AsSpan(centre * width, width);
                for (var j = first; j < end; j++)
                {
                    centreDistance[j] = FixedOrderDistance(features.AsSpan(selected[j] * width, width), centreFeatures);
                }
            });
            // Lower every value to its distance to the new centre and find the next farthest patch, chunk by chunk;
            // chunks are merged in index order, so ties go to the lowest index whatever the scheduling.
            Parallel.For(0, chunks, options, chunk =>
            {
                var first = (int)((long)count * chunk / chunks);
                var end = (int)((long)count * (chunk + 1) / chunks);
                var centreFeatures = features.AsSpan(centre * width, width);
                for (var row = first; row < end; row++)
                {
                    var own = nearest[row];
                    if (own >= 0 && centreDistance[own] > TriangleSkipFactor * value[row])
                    {
                        continue;
                    }
                    var distance = FixedOrderDistance(features.AsSpan(row * width, width), centreFeatures);
                    if (distance < value[row])
                    {
                        value[row] = distance;
                        nearest[row] = kept;
                    }
                }
                chunkBest[chunk] = ArgMax(value, first, end);
            });
            chosen = chunkBest[0];
            for (var chunk = 1; chunk < chunks; chunk++)
            {
                if (value[chunkBest[chunk]] > value[chosen])
                {
                    chosen = chunkBest[chunk];
                }
            }
        }
        return selected;
    }

    /// <summary>
    /// 2 (the triangle inequality's factor) with a margin of 0.1 %, far above the relative rounding of a float distance over
    /// D terms (about D x 2^-24), so that no skipped patch would have been lowered by the plain loop.
    /// </summary>
    private const double TriangleSkipFactor = 2.002;

    private static int ArgMax(float[] values, int first, int end)
    {
        var best = first;
        for (var i = first + 1; i < end; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }

    private static ParallelOptions Options(int maxDegreeOfParallelism) =>
        new() { MaxDegreeOfParallelism = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism };

    /// <summary>Dot product with 8 float lanes, multiply then add (never fused), lanes summed in a fixed tree. O(n).</summary>
    private static float FixedOrderDot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= x.Length; i += 8)
        {
            acc += Vector256.Create(x.Slice(i, 8)) * Vector256.Create(y.Slice(i, 8));
        }
        var sum = LaneSum(acc);
        for (; i < x.Length; i++)
        {
            sum += x[i] * y[i];
        }
        return sum;
    }

    /// <summary>Euclidean distance in the same fixed order as <see cref="FixedOrderDot"/>. O(n).</summary>
    private static float FixedOrderDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= x.Length; i += 8)
        {
            var d = Vector256.Create(x.Slice(i, 8)) - Vector256.Create(y.Slice(i, 8));
            acc += d * d;
        }
        var sum = LaneSum(acc);
        for (; i < x.Length; i++)
        {
            var d = x[i] - y[i];
            sum += d * d;
        }
        return MathF.Sqrt(sum);
    }

    private static float LaneSum(Vector256<float> v) =>
        ((v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3)))
        + ((v.GetElement(4) + v.GetElement(5)) + (v.GetElement(6) + v.GetElement(7)));
}
