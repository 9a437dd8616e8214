using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Jobs;
using SkiaSharp;

namespace AnomalyClustering.Cli.Datasets;

/// <summary>
/// The pixel-level ground truth of an MVTec-layout dataset: <c>ground_truth/&lt;class&gt;/&lt;name&gt;.png</c> (magnetic
/// tile) or <c>&lt;name&gt;_mask.png</c> (MVTec AD) for each defective test image; <c>good</c> images have no mask (no defect
/// pixel). A mask pixel is a defect when its value is at least <see cref="DefectLevel"/> (the masks are 0 / 255 with
/// anti-aliased edges).
/// </summary>
/// <param name="MaskPathByImageId">The mask file of every defective image, by image id.</param>
/// <param name="ExcludedImageIds">Defective images whose mask cannot be read: they are left out of the pixel metrics (as good images they would count wrongly).</param>
internal sealed record GroundTruthMasks(IReadOnlyDictionary<string, string> MaskPathByImageId, IReadOnlySet<string> ExcludedImageIds)
{
    private const int MaxNamedMasks = 3;

    /// <summary>The dataset folder that holds the masks.</summary>
    public const string FolderName = "ground_truth";

    /// <summary>Mask values from here up are defect pixels: half of the 8-bit range.</summary>
    public const byte DefectLevel = 128;

    /// <summary>
    /// The masks of <paramref name="found"/>: null without a <c>ground_truth</c> folder (or outside the MVTec layout); with
    /// one, the masks, or null and what is missing when a defective image has no mask (then no pixel metrics are computed).
    /// A mask that cannot be read (not an image, a broken link) leaves its image out of the pixel metrics, and the problem
    /// names it: a mask is extra ground truth, never a reason to lose the clustering.
    /// </summary>
    public static (GroundTruthMasks? Masks, string? Problem) Find(DiscoveredImageFolder found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var folder = Path.Combine(found.Root, FolderName);
        if (found.Layout != ImageFolderLayout.Mvtec || !found.Dataset.HasLabels || !Directory.Exists(folder))
        {
            return (null, null);
        }
        var masks = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var image in found.Dataset.Images.Where(image => image.Label != ImageDetection.GoodLabel))
        {
            var name = Path.GetFileNameWithoutExtension(image.Path);
            var candidates = new[] { $"{name}.png", $"{name}_mask.png" }.Select(file => Path.Combine(folder, image.Label!, file));
            if (candidates.FirstOrDefault(File.Exists) is { } mask)
            {
                masks[image.Id] = mask;
            }
            else
            {
                missing.Add(image.Id);
            }
        }
        if (missing.Count > 0)
        {
            return (null, $"{missing.Count} defective images have no mask in {FolderName}/<class>/ (e.g. '{missing[0]}'), so no pixel metrics");
        }
        // Only the header is read here (microseconds a mask); a mask that fails only when decoded in full is skipped then.
        var unreadable = masks.Select(pair => (ImageId: pair.Key, Mask: pair.Value, Problem: MaskProblem(pair.Value)))
            .Where(mask => mask.Problem is not null)
            .ToList();
        foreach (var (imageId, _, _) in unreadable)
        {
            masks.Remove(imageId);
        }
        string? problem = unreadable.Count switch
        {
            0 => null,
            1 => $"mask '{unreadable[0].Mask}' is unusable ({unreadable[0].Problem}), so image '{unreadable[0].ImageId}' is left out of the pixel metrics",
            _ => $"{unreadable.Count} masks are unusable, so their images are left out of the pixel metrics: "
                 + string.Join(", ", unreadable.Take(MaxNamedMasks).Select(mask => $"'{mask.Mask}' ({mask.Problem})"))
                 + (unreadable.Count > MaxNamedMasks ? $" and {unreadable.Count - MaxNamedMasks} more" : ""),
        };
        if (masks.Count == 0)
        {
            return (null, unreadable.Count == 0 ? null : $"{problem}; no mask is left, so no pixel metrics");
        }
        return (new GroundTruthMasks(masks, unreadable.Select(mask => mask.ImageId).ToHashSet(StringComparer.Ordinal)), problem);
    }

    /// <summary>Why the mask at <paramref name="path"/> cannot be used, or null when its header reads as an image.</summary>
    private static string? MaskProblem(string path)
    {
        if (ImageFileAccess.Problem(path) is { } unreadable)
        {
            return unreadable;
        }
        using var codec = SKCodec.Create(path);
        return codec is null ? "not an image" : null;
    }
}
