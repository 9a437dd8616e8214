using AnomalyClustering.Embedding.Pipeline;

namespace AnomalyClustering.Cli.Datasets;

/// <summary>An image folder as found on disk: its layout, the dataset it makes, and what was left out.</summary>
/// <param name="Root">The folder given on the command line (full path).</param>
/// <param name="Layout">The detected layout.</param>
/// <param name="Dataset">The images to cluster (labels when the layout has them) and the normal images.</param>
/// <param name="NormalFolder">Where the normal images came from, or null when there are none.</param>
/// <param name="ExcludedImages">Images left out by the evaluation protocol (the <c>combined</c> class), by class name.</param>
internal sealed record DiscoveredImageFolder(
    string Root,
    ImageFolderLayout Layout,
    ClusteringDataset Dataset,
    string? NormalFolder,
    IReadOnlyDictionary<string, int> ExcludedImages);

/// <summary>
/// Finds the images of a dataset folder and detects its layout: MVTec (<c>test/&lt;class&gt;/</c>,
/// <c>train/good/</c>), one folder per class, or a flat folder of unlabelled images.
/// </summary>
internal static class ImageFolderDiscovery
{
    /// <summary>File extensions read as images (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>The class METHOD section 6 excludes: images with several defects at once.</summary>
    public const string CombinedClass = "combined";

    /// <summary>Detects the layout of <paramref name="folder"/> and lists its images.</summary>
    /// <param name="folder">The dataset folder.</param>
    /// <param name="normalFolder">Normal images for semi-supervised mode; null means <c>train/good</c> when the layout is MVTec and it exists.</param>
    /// <exception cref="CliInputException">A folder is missing or holds no images.</exception>
    public static DiscoveredImageFolder Discover(string folder, string? normalFolder = null)
    {
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new CliInputException(File.Exists(root)
                ? $"'{folder}' is a file; give the folder that holds the images."
                : $"images folder '{folder}' does not exist.");
        }

        var excluded = new Dictionary<string, int>(StringComparer.Ordinal);
        ImageFolderLayout layout;
        List<DatasetImage> images;
        var testFolder = Path.Combine(root, "test");
        if (Directory.Exists(testFolder) && VisibleSubfolders(testFolder).Any())
        {
            layout = ImageFolderLayout.Mvtec;
            images = ClassFolderImages(root, testFolder, excluded);
            if (images.Count == 0)
            {
                throw new CliInputException($"'{folder}' looks like MVTec (it has test/) but test/<class>/ holds no images ({ExtensionList}).");
            }
        }
        else if (ImageFiles(root).Any())
        {
            layout = ImageFolderLayout.Flat;
            images = ImageFiles(root).Select(path => new DatasetImage(RelativeId(root, path), path)).ToList();
        }
        else
        {
            layout = ImageFolderLayout.ClassFolders;
            images = ClassFolderImages(root, root, excluded);
            if (images.Count == 0)
            {
                throw new CliInputException($"no images found in '{folder}' or its class folders (looked for {ExtensionList}).");
            }
        }

        var normals = NormalImages(root, layout, normalFolder, out var normalsFrom);
        return new DiscoveredImageFolder(root, layout, new ClusteringDataset(images, normals), normalsFrom, excluded);
    }

    /// <summary>The image files directly inside <paramref name="folder"/>, in ordinal order (hidden files skipped).</summary>
    public static IEnumerable<string> ImageFiles(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(path => !Path.GetFileName(path).StartsWith('.') && ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

    private static string ExtensionList => string.Join(", ", ImageExtensions.Select(e => "*" + e));

    private static IEnumerable<string> VisibleSubfolders(string folder) =>
        Directory.EnumerateDirectories(folder)
            .Where(path => !Path.GetFileName(path).StartsWith('.'))
            .Order(StringComparer.Ordinal);

    private static List<DatasetImage> ClassFolderImages(string root, string classesFolder, Dictionary<string, int> excluded)
    {
        var images = new List<DatasetImage>();
        foreach (var classFolder in VisibleSubfolders(classesFolder))
        {
            var className = Path.GetFileName(classFolder);
            var files = ImageFiles(classFolder).ToList();
            if (string.Equals(className, CombinedClass, StringComparison.OrdinalIgnoreCase))
            {
                if (files.Count > 0)
                {
                    excluded[className] = files.Count;
                }
                continue;
            }
            images.AddRange(files.Select(path => new DatasetImage(RelativeId(root, path), path, className)));
        }
        return images;
    }

    private static List<DatasetImage> NormalImages(string root, ImageFolderLayout layout, string? normalFolder, out string? normalsFrom)
    {
        normalsFrom = null;
        if (normalFolder is null)
        {
            var trainGood = Path.Combine(root, "train", "good");
            if (layout != ImageFolderLayout.Mvtec || !Directory.Exists(trainGood))
            {
                return [];
            }
            normalFolder = trainGood;
        }
        var fullNormal = Path.GetFullPath(normalFolder);
        if (!Directory.Exists(fullNormal))
        {
            throw new CliInputException($"normal images folder '{normalFolder}' does not exist.");
        }
        var files = ImageFiles(fullNormal).ToList();
        if (files.Count == 0)
        {
            throw new CliInputException($"normal images folder '{normalFolder}' holds no images (looked for {ExtensionList}).");
        }
        normalsFrom = fullNormal;
        return files.Select(path => new DatasetImage(RelativeId(root, path), path)).ToList();
    }

    private static string RelativeId(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        // Normal images outside the dataset folder keep their full path as id.
        return (relative.StartsWith("..", StringComparison.Ordinal) ? path : relative).Replace('\\', '/');
    }
}
