using System.Globalization;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>
/// How images are prepared for a backbone (METHOD section 1.1): bilinear resize of the shorter side,
/// centre crop, scale to [0,1], per-channel (x - mean) / std in RGB order. Defaults: ImageNet, 256 / 224.
/// </summary>
public sealed record BackbonePreprocessing
{
    /// <summary>ImageNet statistics with a 256 resize and a 224 crop, what ImageNet-pretrained backbones expect.</summary>
    public static BackbonePreprocessing ImageNet { get; } = new();

    /// <summary>Length in pixels of the shorter image side after resizing.</summary>
    public int ResizeShorterSide { get; init; } = 256;

    /// <summary>Side in pixels of the square centre crop taken after resizing; the backbone's input height and width.</summary>
    public int CropSize { get; init; } = 224;

    /// <summary>Per-channel mean (R, G, B) subtracted after scaling to [0,1].</summary>
    public IReadOnlyList<float> Mean { get; init; } = [0.485f, 0.456f, 0.406f];

    /// <summary>Per-channel standard deviation (R, G, B) divided by after subtracting the mean.</summary>
    public IReadOnlyList<float> Std { get; init; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Value equality, the lists compared element by element.</summary>
    public bool Equals(BackbonePreprocessing? other) =>
        other is not null && ResizeShorterSide == other.ResizeShorterSide && CropSize == other.CropSize
        && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <summary>Hash consistent with <see cref="Equals(BackbonePreprocessing?)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ResizeShorterSide);
        hash.Add(CropSize);
        foreach (var m in Mean)
        {
            hash.Add(m);
        }
        foreach (var s in Std)
        {
            hash.Add(s);
        }
        return hash.ToHashCode();
    }

    /// <summary>A stable text form for identities: the same settings always give the same text.</summary>
    internal string CanonicalText() =>
        string.Create(CultureInfo.InvariantCulture,
            $"resize={ResizeShorterSide};crop={CropSize};mean={string.Join(",", Mean.Select(m => m.ToString("R", CultureInfo.InvariantCulture)))};std={string.Join(",", Std.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}");

    /// <summary>What is wrong with these settings, one sentence each; empty when they are usable.</summary>
    internal IEnumerable<string> Problems()
    {
        if (CropSize < 1)
        {
            yield return $"preprocessing.cropSize must be at least 1 (got {CropSize})";
        }
        if (ResizeShorterSide < CropSize)
        {
            yield return $"preprocessing.resizeShorterSide ({ResizeShorterSide}) must be at least cropSize ({CropSize}) so that the centre crop fits";
        }
        if (Mean is null || Mean.Count != 3 || Mean.Any(m => !float.IsFinite(m)))
        {
            yield return "preprocessing.mean must be three finite numbers (R, G, B)";
        }
        if (Std is null || Std.Count != 3 || Std.Any(s => !float.IsFinite(s) || s <= 0))
        {
            yield return "preprocessing.std must be three finite numbers greater than 0 (R, G, B)";
        }
    }
}
