namespace AnomalyClustering.Embedding.Datasets;

/// <summary>One image a layout found: its path relative to the dataset root ('/'-separated) and its class, or null.</summary>
/// <param name="RelativePath">The path below the dataset root, e.g. <c>test/crack/000.png</c>; also the image's id in outputs.</param>
/// <param name="Label">The class folder's name, or null in the flat layout.</param>
public sealed record LayoutImage(string RelativePath, string? Label);

/// <summary>What <see cref="ImageDatasetLayout.Detect"/> found.</summary>
/// <param name="Layout">The detected layout.</param>
/// <param name="Images">
/// The files to cluster, in output order: every visible file of the layout's image folders (a folder with at least one
/// image extension), also those without an image extension, so that the decoder refuses them with their reason and the
/// result lists them as left out instead of dropping them in silence. See <see cref="HasImageFiles"/> for whether any
/// image is among them.
/// </param>
/// <param name="TrainGoodImages">
/// The images directly in <c>train/good/</c> (relative paths, ordinal order) when the layout is MVTec and that folder exists;
/// null otherwise; only the files with an image extension, since each takes one of the limited normal-image slots and
/// none is a result row that could report it. Empty means the folder exists but holds no images.
/// </param>
/// <param name="ExcludedImages">Images left out by the evaluation protocol (the <c>combined</c> class), by class folder name.</param>
public sealed record DetectedImageLayout(
    ImageFolderLayout Layout,
    IReadOnlyList<LayoutImage> Images,
    IReadOnlyList<string>? TrainGoodImages,
    IReadOnlyDictionary<string, int> ExcludedImages)
{
    /// <summary>Whether any of <see cref="Images"/> has an image extension; when none has, the dataset has no images (the caller words that error).</summary>
    public bool HasImageFiles => ImageDatasetLayout.AnyImageFile(Images.Select(image => image.RelativePath));
}

/// <summary>
/// Detects a dataset's layout from the relative paths of its files, wherever they live (a folder on disk, blobs under a
/// prefix, the parts of an upload): MVTec (<c>test/&lt;class&gt;/</c> with <c>train/good/</c> as normal images), one
/// folder per class, or a flat set of unlabelled images. Names starting with '.' are hidden and ignored (system files such
/// as .DS_Store). Files with an image extension decide the layout and which folders are image folders (a class folder
/// without any, such as docs/ beside the classes, is no class); every visible file of those image folders is listed, so
/// that one of an unsupported kind is left out with its reason, never skipped in silence. O(n log n) in the
/// number of paths.
/// </summary>
public static class ImageDatasetLayout
{
    /// <summary>File extensions read as images (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"];

    /// <summary>The class METHOD section 6 excludes: images with several defects at once.</summary>
    public const string CombinedClass = "combined";

    /// <summary>The folder (relative to the root) whose images are the normal images of an MVTec layout.</summary>
    public const string TrainGoodFolder = "train/good";

    /// <summary>The folder whose class sub-folders make a dataset MVTec (<c>test/&lt;class&gt;/</c>).</summary>
    public const string TestFolder = "test";

    /// <summary>The extensions as a list for messages: <c>*.png, *.jpg, ...</c>.</summary>
    public static string ExtensionList => string.Join(", ", ImageExtensions.Select(e => "*" + e));

    /// <summary>True when <paramref name="fileName"/> (a name without folders) is not hidden and has an image extension.</summary>
    public static bool IsImageFileName(string fileName)
    {
        if (!IsVisibleFileName(fileName))
        {
            return false;
        }
        var dot = fileName.LastIndexOf('.');
        return dot > 0 && ImageExtensions.Contains(fileName[dot..], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>True when <paramref name="fileName"/> (a name without folders) is not empty and not hidden: a file a dataset lists, image or not.</summary>
    public static bool IsVisibleFileName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.Length > 0 && fileName[0] != '.';
    }

    /// <summary>True when any of the '/'-separated <paramref name="relativePaths"/> names an image file (see <see cref="IsImageFileName"/>); stops at the first.</summary>
    public static bool AnyImageFile(IEnumerable<string> relativePaths)
    {
        ArgumentNullException.ThrowIfNull(relativePaths);
        return relativePaths.Any(path => IsImageFileName(LeafName(path)));
    }

    /// <summary>The last segment of a '/'-separated path.</summary>
    public static string LeafName(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return relativePath[(relativePath.LastIndexOf('/') + 1)..];
    }

    /// <summary>
    /// Detects the layout of the files <paramref name="relativeFiles"/> ('/'-separated paths below the root). Folders are
    /// those the files imply plus <paramref name="relativeFolders"/> (for stores that have empty folders, like a disk):
    /// MVTec when <c>test/</c> has a visible sub-folder; else flat when the root holds images; else class folders.
    /// </summary>
    public static DetectedImageLayout Detect(IEnumerable<string> relativeFiles, IEnumerable<string>? relativeFolders = null)
    {
        ArgumentNullException.ThrowIfNull(relativeFiles);
        // Folder path ("" for the root) to the names of its files and of its sub-folders.
        var files = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var subfolders = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var folder in relativeFolders ?? [])
        {
            AddFolder(folder.Trim('/'), subfolders);
        }
        foreach (var path in relativeFiles)
        {
            var slash = path.LastIndexOf('/');
            var folder = slash < 0 ? "" : path[..slash];
            AddFolder(folder, subfolders);
            if (!files.TryGetValue(folder, out var names))
            {
                files[folder] = names = [];
            }
            names.Add(path[(slash + 1)..]);
        }

        var excluded = new Dictionary<string, int>(StringComparer.Ordinal);
        ImageFolderLayout layout;
        List<LayoutImage> images;
        if (VisibleSubfolders(subfolders, TestFolder).Any())
        {
            layout = ImageFolderLayout.Mvtec;
            images = ClassFolderImages(files, subfolders, TestFolder, excluded);
        }
        else if (ImagesIn(files, "").Any())
        {
            layout = ImageFolderLayout.Flat;
            images = FilesIn(files, "").Select(name => new LayoutImage(name, null)).ToList();
        }
        else
        {
            layout = ImageFolderLayout.ClassFolders;
            images = ClassFolderImages(files, subfolders, "", excluded);
        }
        var trainGood = layout == ImageFolderLayout.Mvtec && subfolders.ContainsKey(TrainGoodFolder)
            ? ImagesIn(files, TrainGoodFolder).Select(name => $"{TrainGoodFolder}/{name}").ToList()
            : null;
        return new DetectedImageLayout(layout, images, trainGood, excluded);
    }

    /// <summary>The image files among <paramref name="relativeFiles"/> that lie directly in the root (no folder), in ordinal order.</summary>
    public static IReadOnlyList<string> ImagesAtRoot(IEnumerable<string> relativeFiles)
    {
        ArgumentNullException.ThrowIfNull(relativeFiles);
        return relativeFiles.Where(path => !path.Contains('/', StringComparison.Ordinal) && IsImageFileName(path)).Order(StringComparer.Ordinal).ToList();
    }

    private static void AddFolder(string folder, Dictionary<string, SortedSet<string>> subfolders)
    {
        // Registers the folder and every ancestor, so that "test/crack" makes "test" a folder with sub-folder "crack".
        if (subfolders.ContainsKey(folder))
        {
            return;
        }
        subfolders[folder] = new SortedSet<string>(StringComparer.Ordinal);
        if (folder.Length == 0)
        {
            return;
        }
        var slash = folder.LastIndexOf('/');
        var parent = slash < 0 ? "" : folder[..slash];
        AddFolder(parent, subfolders);
        subfolders[parent].Add(folder[(slash + 1)..]);
    }

    private static IEnumerable<string> VisibleSubfolders(Dictionary<string, SortedSet<string>> subfolders, string folder) =>
        subfolders.TryGetValue(folder, out var names) ? names.Where(name => name[0] != '.') : [];

    private static IEnumerable<string> ImagesIn(Dictionary<string, List<string>> files, string folder) =>
        files.TryGetValue(folder, out var names) ? names.Where(IsImageFileName).Order(StringComparer.Ordinal) : [];

    private static IEnumerable<string> FilesIn(Dictionary<string, List<string>> files, string folder) =>
        files.TryGetValue(folder, out var names) ? names.Where(IsVisibleFileName).Order(StringComparer.Ordinal) : [];

    private static List<LayoutImage> ClassFolderImages(
        Dictionary<string, List<string>> files, Dictionary<string, SortedSet<string>> subfolders, string classesFolder, Dictionary<string, int> excluded)
    {
        var images = new List<LayoutImage>();
        var classes = VisibleSubfolders(subfolders, classesFolder)
            .Select(className => (Name: className, Folder: classesFolder.Length == 0 ? className : $"{classesFolder}/{className}"))
            .ToList();
        // Image extensions decide which folders are classes: docs/ holding README.md beside the classes is not a class
        // whose every file would be reported as a failed image. When no folder has an image, all are listed as they are
        // (the dataset has no images, which the caller reports).
        var anyImages = classes.Any(c => ImagesIn(files, c.Folder).Any());
        foreach (var (className, classFolder) in classes)
        {
            if (anyImages && !ImagesIn(files, classFolder).Any())
            {
                continue;
            }
            var names = FilesIn(files, classFolder).ToList();
            if (string.Equals(className, CombinedClass, StringComparison.OrdinalIgnoreCase))
            {
                if (names.Count > 0)
                {
                    excluded[className] = names.Count;
                }
                continue;
            }
            images.AddRange(names.Select(name => new LayoutImage($"{classFolder}/{name}", className)));
        }
        return images;
    }
}
