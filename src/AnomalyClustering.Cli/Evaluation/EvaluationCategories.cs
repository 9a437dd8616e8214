namespace AnomalyClustering.Cli.Evaluation;

/// <summary>One category of an evaluation: an MVTec-layout dataset folder and the group its scores are averaged in.</summary>
/// <param name="Name">The category name (its folder name).</param>
/// <param name="Folder">The category folder (holding <c>test/&lt;class&gt;/</c> and optionally <c>train/good/</c>).</param>
/// <param name="Group">The group of its averages: MVTec AD's <c>objects</c> or <c>textures</c>, else <c>other</c>.</param>
internal sealed record EvaluationCategory(string Name, string Folder, string Group);

/// <summary>
/// Finds the categories of an evaluation root (METHOD section 6): the root itself when it is one MVTec-layout dataset,
/// otherwise each sub-folder that is one (as in the MVTec AD download, one folder per product).
/// </summary>
internal static class EvaluationCategories
{
    /// <summary>The group of averages for categories that are not MVTec AD's.</summary>
    public const string OtherGroup = "other";

    /// <summary>MVTec AD's texture categories (the paper's "textures" average).</summary>
    private static readonly HashSet<string> MvtecTextures = new(StringComparer.OrdinalIgnoreCase) { "carpet", "grid", "leather", "tile", "wood" };

    /// <summary>MVTec AD's object categories (the paper's "objects" average).</summary>
    private static readonly HashSet<string> MvtecObjects = new(StringComparer.OrdinalIgnoreCase)
    {
        "bottle", "cable", "capsule", "hazelnut", "metal_nut", "pill", "screw", "toothbrush", "transistor", "zipper",
    };

    /// <summary>The categories under <paramref name="root"/>, in ordinal order, keeping only <paramref name="only"/> when it is not empty.</summary>
    /// <exception cref="CliInputException">The root is missing, holds no MVTec-layout dataset, or a requested category is not there.</exception>
    public static IReadOnlyList<EvaluationCategory> Discover(string root, IReadOnlyCollection<string> only)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
        {
            throw new CliInputException($"evaluation root '{root}' does not exist.");
        }
        var folders = IsMvtecDataset(full)
            ? [full]
            : Directory.EnumerateDirectories(full)
                .Where(folder => !Path.GetFileName(folder).StartsWith('.') && IsMvtecDataset(folder))
                .Order(StringComparer.Ordinal)
                .ToList();
        if (folders.Count == 0)
        {
            throw new CliInputException(
                $"'{root}' is not an MVTec-layout dataset (test/<class>/) and has no sub-folder that is one; give a dataset folder or a folder of them.");
        }
        var categories = folders.Select(folder => new EvaluationCategory(Path.GetFileName(folder), folder, GroupOf(Path.GetFileName(folder)))).ToList();
        if (only.Count == 0)
        {
            return categories;
        }
        var unknown = only.Where(name => categories.All(c => c.Name != name)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliInputException(
                $"no category {string.Join(", ", unknown.Select(n => $"'{n}'"))} under '{root}'; it has {string.Join(", ", categories.Select(c => c.Name))}.");
        }
        return categories.Where(c => only.Contains(c.Name)).ToList();
    }

    /// <summary>The averaging group of a category: <c>objects</c> or <c>textures</c> for MVTec AD's, <see cref="OtherGroup"/> otherwise.</summary>
    public static string GroupOf(string category) =>
        MvtecTextures.Contains(category) ? "textures" : MvtecObjects.Contains(category) ? "objects" : OtherGroup;

    private static bool IsMvtecDataset(string folder)
    {
        var test = Path.Combine(folder, "test");
        return Directory.Exists(test) && Directory.EnumerateDirectories(test).Any(sub => !Path.GetFileName(sub).StartsWith('.'));
    }
}
