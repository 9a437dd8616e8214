using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Datasets;

/// <summary>
/// The pixel-level ground truth of an MVTec-layout dataset: <c>ground_truth/&lt;class&gt;/&lt;name&gt;.png</c> (magnetic
/// tile) or <c>&lt;name&gt;_mask.png</c> (MVTec AD) for each defective test image; <c>good</c> images have no mask (no defect
/// pixel). A mask pixel is a defect when its value is at least <see cref="DefectLevel"/> (the masks are 0 / 255 with
/// anti-aliased edges).
/// </summary>
/// <param name="MaskPathByImageId">The mask file of every defective image, by image id.</param>
internal sealed record GroundTruthMasks(IReadOnlyDictionary<string, string> MaskPathByImageId)
{
    /// <summary>The dataset folder that holds the masks.</summary>
    public const string FolderName = "ground_truth";

    /// <summary>Mask values from here up are defect pixels: half of the 8-bit range.</summary>
    public const byte DefectLevel = 128;

    /// <summary>
    /// The masks of <paramref name="found"/>: null without a <c>ground_truth</c> folder (or outside the MVTec layout); with
    /// one, the masks, or null and what is missing when a defective image has no mask (then no pixel metrics are computed).
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
        return masks.Count == 0 ? (null, null) : (new GroundTruthMasks(masks), null);
    }
}
