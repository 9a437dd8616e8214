using System.Buffers;
using System.Runtime.Intrinsics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>The image embedding of METHOD section 3: x = sum_k alpha_k z_k, the alpha-weighted sum of a bag's patches.</summary>
public static class BagEmbedding
{
    /// <summary>
    /// Writes x = sum_k alpha_k z_k (T floats). Accumulated in double (plain multiply and add, fixed
    /// order) and rounded once, so the result is the same on every machine. Patches with alpha_k = 0
    /// are skipped (a one-hot alpha costs O(T)). O(M T) time, O(T) scratch from the array pool.
    /// Throws when alpha's length is not M, or alpha or the bag holds NaN or infinity.
    /// </summary>
    public static void Compute(PatchBag bag, ReadOnlySpan<float> alpha, Span<float> embedding)
    {
        ScoringInput.CheckBag(bag, nameof(bag));
        Guard.Length(alpha.Length, bag.PatchCount, "alpha (one weight per patch)");
        Guard.Finite(alpha, "alpha");
        Guard.Length(embedding.Length, bag.Dimension, "embedding");
        var dimension = bag.Dimension;
        var rented = ArrayPool<double>.Shared.Rent(dimension);
        var sum = rented.AsSpan(0, dimension);
        sum.Clear();
        const int Width = 8;
        for (var k = 0; k < alpha.Length; k++)
        {
            if (alpha[k] == 0f)
            {
                continue;
            }
            var weight = (double)alpha[k];
            var weightVector = Vector256.Create(weight);
            var patch = bag.Patch(k);
            var t = 0;
            for (; t + Width <= dimension; t += Width)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(patch.Slice(t, Width)));
                (Vector256.Create((ReadOnlySpan<double>)sum.Slice(t, 4)) + low * weightVector).CopyTo(sum.Slice(t, 4));
                (Vector256.Create((ReadOnlySpan<double>)sum.Slice(t + 4, 4)) + high * weightVector).CopyTo(sum.Slice(t + 4, 4));
            }
            for (; t < dimension; t++)
            {
                sum[t] += weight * patch[t];
            }
        }
        for (var t = 0; t < dimension; t++)
        {
            embedding[t] = (float)sum[t];
        }
        ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary>x = sum_k alpha_k z_k as a new array of T floats. O(M T).</summary>
    public static float[] Compute(PatchBag bag, ReadOnlySpan<float> alpha)
    {
        ScoringInput.CheckBag(bag, nameof(bag));
        var embedding = new float[bag.Dimension];
        Compute(bag, alpha, embedding);
        return embedding;
    }
}
