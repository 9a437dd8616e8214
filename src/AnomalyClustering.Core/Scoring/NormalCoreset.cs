using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// The patches a greedy coreset kept of the normal images (<see cref="NormalBankCoreset.Select"/>), each with the normal image
/// it came from: the job's normal bank, and for the detection threshold the bank without one normal image's own patches.
/// </summary>
/// <remarks>Holds C x T floats (C kept patches); each bank built from it packs them again (O(C T)).</remarks>
public sealed class NormalCoreset
{
    private readonly float[] _rows;
    private readonly int[] _owners;

    internal NormalCoreset(float[] rows, int[] owners, int dimension, int normalImageCount)
    {
        _rows = rows;
        _owners = owners;
        Dimension = dimension;
        NormalImageCount = normalImageCount;
    }

    /// <summary>Kept patches C.</summary>
    public int PatchCount => _owners.Length;

    /// <summary>Embedding dimension T.</summary>
    public int Dimension { get; }

    /// <summary>Normal images the coreset was selected from.</summary>
    public int NormalImageCount { get; }

    /// <summary>The normal image (its place in the bags the coreset was selected from) of kept patch <paramref name="index"/>.</summary>
    public int OwnerOf(int index) => _owners[index];

    /// <summary>The normal bank of every kept patch, in selection order. O(C T).</summary>
    public NormalBank ToBank() => NormalBank.FromRows(_rows, PatchCount, Dimension);

    /// <summary>
    /// The normal bank of the kept patches that did not come from normal image <paramref name="normalImage"/>, to score that
    /// image leave-one-out. The coreset was selected with the image's patches present, so this approximates (from above: the
    /// distances can only be larger) the coreset of the other images. O(C T).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Every kept patch came from that image.</exception>
    public NormalBank ToBankWithout(int normalImage)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(normalImage);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(normalImage, NormalImageCount);
        var kept = 0;
        foreach (var owner in _owners)
        {
            kept += owner == normalImage ? 0 : 1;
        }
        if (kept == 0)
        {
            throw new InvalidClusteringInputException(
                $"every patch of the coreset came from normal image {normalImage}, so it has no other normal patch to be scored against; use a larger coreset fraction.",
                nameof(normalImage));
        }
        var rows = new float[kept * Dimension];
        var row = 0;
        for (var i = 0; i < _owners.Length; i++)
        {
            if (_owners[i] != normalImage)
            {
                _rows.AsSpan(i * Dimension, Dimension).CopyTo(rows.AsSpan(row++ * Dimension));
            }
        }
        return NormalBank.FromRows(rows, kept, Dimension);
    }
}
