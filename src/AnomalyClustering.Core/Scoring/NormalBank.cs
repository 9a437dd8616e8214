using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// The patches of the labelled normal images (METHOD section 2, semi-supervised), concatenated and
/// packed once for the nearest-patch kernel so that every query image reuses the packing.
/// </summary>
/// <remarks>Building it is O(P T) time and holds P x T floats (P = total normal patches, padded to a multiple of 16).</remarks>
public sealed class NormalBank
{
    private NormalBank(PanelMatrix packed)
    {
        Packed = packed;
    }

    /// <summary>Total number of normal patches P.</summary>
    public int PatchCount => Packed.Rows;

    /// <summary>Embedding dimension T.</summary>
    public int Dimension => Packed.Dimension;

    /// <summary>The patches in kernel layout.</summary>
    internal PanelMatrix Packed { get; }

    /// <summary>Concatenates the patches of the normal images, in order. Throws on no bags, NaN/infinity or mixed dimensions.</summary>
    public static NormalBank FromBags(IReadOnlyList<PatchBag> normalBags)
    {
        ArgumentNullException.ThrowIfNull(normalBags);
        if (normalBags.Count == 0)
        {
            throw new InvalidClusteringInputException("The normal bank needs at least one normal image.", nameof(normalBags));
        }
        ScoringInput.CheckBag(normalBags[0], "normalBags[0]");
        var dimension = normalBags[0].Dimension;
        ScoringInput.CheckBags(normalBags, dimension, nameof(normalBags));
        var total = 0L;
        foreach (var bag in normalBags)
        {
            total += bag.PatchCount;
        }
        if (total * dimension > Array.MaxLength)
        {
            throw new InvalidClusteringInputException(
                $"The normal bank would hold {total} patches x {dimension} floats, more than one array can; reduce it with a coreset first.",
                nameof(normalBags));
        }
        var packed = new PanelMatrix(NearestPatchSearch.ReferencePanelWidth);
        packed.Resize((int)total, dimension);
        var row = 0;
        foreach (var bag in normalBags)
        {
            for (var k = 0; k < bag.PatchCount; k++)
            {
                packed.SetRow(row++, bag.Patch(k));
            }
        }
        return new NormalBank(packed);
    }

    /// <summary>Wraps <paramref name="patchCount"/> row-major patches of <paramref name="dimension"/> floats (e.g. a coreset). Copied (the copy is kept beside the packed form for exact distances).</summary>
    public static NormalBank FromRows(ReadOnlySpan<float> rows, int patchCount, int dimension)
    {
        Guard.AtLeast(patchCount, 1, nameof(patchCount));
        Guard.AtLeast(dimension, 1, nameof(dimension));
        Guard.Length(rows.Length, patchCount * dimension, "normal bank rows");
        Guard.Finite(rows, "normal bank rows");
        var packed = new PanelMatrix(NearestPatchSearch.ReferencePanelWidth);
        packed.Pack(rows.ToArray(), patchCount, dimension);
        return new NormalBank(packed);
    }

    /// <summary>Copies normal patch <paramref name="index"/> into <paramref name="destination"/> (T floats). O(T).</summary>
    public void CopyPatch(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PatchCount);
        Guard.Length(destination.Length, Dimension, "destination");
        Packed.CopyRow(index, destination);
    }
}
