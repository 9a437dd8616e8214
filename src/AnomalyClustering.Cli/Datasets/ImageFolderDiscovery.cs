using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Jobs;

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
/// Finds the images of a dataset folder and detects its layout (<see cref="ImageDatasetLayout"/>, shared with the HTTP
/// API's blob datasets): MVTec (<c>test/&lt;class&gt;/</c>, <c>train/good/</c>), one folder per class, or a flat folder
/// of unlabelled images.
/// </summary>
internal static class ImageFolderDiscovery
{
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

        var (files, folders) = ListLayoutEntries(root);
        var detected = ImageDatasetLayout.Detect(files, folders);
        if (!detected.HasImageFiles)
        {
            throw new CliInputException(detected.Layout == ImageFolderLayout.Mvtec
                ? $"'{folder}' looks like MVTec (it has test/) but test/<class>/ holds no images ({ImageDatasetLayout.ExtensionList})."
                : $"no images found in '{folder}' or its class folders (looked for {ImageDatasetLayout.ExtensionList}).");
        }
        var images = detected.Images.Select(image => new DatasetImage(image.RelativePath, FullPath(root, image.RelativePath), image.Label)).ToList();

        List<DatasetImage> normals = [];
        string? normalsFrom = null;
        if (normalFolder is not null)
        {
            normalsFrom = Path.GetFullPath(normalFolder);
            if (!Directory.Exists(normalsFrom))
            {
                throw new CliInputException($"normal images folder '{normalFolder}' does not exist.");
            }
            normals = ImageFiles(normalsFrom).Select(path => new DatasetImage(RelativeId(root, path), path)).ToList();
        }
        else if (detected.TrainGoodImages is { } trainGood)
        {
            normalFolder = Path.Combine(root, "train", "good");
            normalsFrom = normalFolder;
            normals = trainGood.Select(relative => new DatasetImage(relative, FullPath(root, relative))).ToList();
        }
        if (normalsFrom is not null && !normals.Any(normal => ImageDatasetLayout.IsImageFileName(Path.GetFileName(normal.Path))))
        {
            throw new CliInputException($"normal images folder '{normalFolder}' holds no images (looked for {ImageDatasetLayout.ExtensionList}).");
        }
        return new DiscoveredImageFolder(root, detected.Layout, new ClusteringDataset(images, normals), normalsFrom, detected.ExcludedImages);
    }

    /// <summary>
    /// The files directly inside <paramref name="folder"/>, in ordinal order, hidden files skipped; also those without an
    /// image extension, which the job then lists as left out with the decoder's reason.
    /// </summary>
    public static IEnumerable<string> ImageFiles(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(path => ImageDatasetLayout.IsVisibleFileName(Path.GetFileName(path)))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// The files and folders a layout can use, relative to <paramref name="root"/>: the root's files and visible folders, their
    /// files and sub-folders, and the files two levels down under <c>test/</c> and <c>train/</c> (MVTec's class folders).
    /// Deeper folders never matter, so they are not walked.
    /// </summary>
    private static (List<string> Files, List<string> Folders) ListLayoutEntries(string root)
    {
        var files = new List<string>();
        var folders = new List<string>();
        AddFiles(root, "", files);
        foreach (var first in VisibleSubfolders(root))
        {
            var firstName = Path.GetFileName(first);
            folders.Add(firstName);
            AddFiles(first, firstName + "/", files);
            foreach (var second in VisibleSubfolders(first))
            {
                var secondName = $"{firstName}/{Path.GetFileName(second)}";
                folders.Add(secondName);
                if (firstName is "test" or "train")
                {
                    AddFiles(second, secondName + "/", files);
                }
            }
        }
        return (files, folders);
    }

    private static void AddFiles(string folder, string relativeFolder, List<string> files) =>
        files.AddRange(Directory.EnumerateFiles(folder).Select(path => relativeFolder + Path.GetFileName(path)));

    private static IEnumerable<string> VisibleSubfolders(string folder) =>
        Directory.EnumerateDirectories(folder).Where(path => !Path.GetFileName(path).StartsWith('.'));

    private static string FullPath(string root, string relative) => Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string RelativeId(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        // Normal images outside the dataset folder keep their full path as id.
        return (relative.StartsWith("..", StringComparison.Ordinal) ? path : relative).Replace('\\', '/');
    }
}
