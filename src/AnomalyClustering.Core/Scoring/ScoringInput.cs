using System.Numerics.Tensors;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>Input checks shared by the scoring functions; each failure is an <see cref="InvalidClusteringInputException"/>.</summary>
internal static class ScoringInput
{
    /// <summary>Throws unless the bag exists and holds only finite values. O(M T).</summary>
    public static void CheckBag(PatchBag? bag, string what)
    {
        if (bag is null)
        {
            throw new InvalidClusteringInputException($"{what} is missing (null).", what);
        }
        // The vectorised check is the common path; the scalar one finds the index for the message.
        if (!TensorPrimitives.IsFiniteAll<float>(bag.Data))
        {
            Guard.Finite(bag.Data, what);
        }
    }

    /// <summary>Throws for a bag whose squared patch norms are not finite: a NaN or infinity, or values too large to square in float32.</summary>
    public static void ThrowNotFinite(PatchBag bag, string what)
    {
        Guard.Finite(bag.Data, what);
        throw new InvalidClusteringInputException(
            $"{what} holds values so large that their squares overflow float32; scale the embeddings down.", what);
    }

    /// <summary>Throws unless every bag exists and has embedding dimension <paramref name="dimension"/> (values are not checked here). O(N).</summary>
    public static void CheckShapes(IReadOnlyList<PatchBag> bags, int dimension, string what)
    {
        ArgumentNullException.ThrowIfNull(bags);
        for (var i = 0; i < bags.Count; i++)
        {
            if (bags[i] is null)
            {
                throw new InvalidClusteringInputException($"{what}[{i}] is missing (null).", what);
            }
            CheckDimension(bags[i].Dimension, dimension, $"{what}[{i}]");
        }
    }

    /// <summary>Throws unless every bag exists, is finite and has embedding dimension <paramref name="dimension"/>.</summary>
    public static void CheckBags(IReadOnlyList<PatchBag> bags, int dimension, string what)
    {
        ArgumentNullException.ThrowIfNull(bags);
        for (var i = 0; i < bags.Count; i++)
        {
            var name = $"{what}[{i}]";
            CheckBag(bags[i], name);
            CheckDimension(bags[i].Dimension, dimension, name);
        }
    }

    /// <summary>Throws unless two embedding dimensions agree.</summary>
    public static void CheckDimension(int actual, int expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidClusteringInputException(
                $"{what} has embedding dimension {actual}, expected {expected}; all patch bags must come from the same backbone and embedding settings.",
                what);
        }
    }

    /// <summary>-1 or 0 means every processor; other values below -1 are a mistake.</summary>
    public static void CheckParallelism(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism < -1)
        {
            throw new InvalidClusteringInputException(
                $"maxDegreeOfParallelism is {maxDegreeOfParallelism}; use -1 (all processors) or a positive thread count.",
                nameof(maxDegreeOfParallelism));
        }
    }
}
