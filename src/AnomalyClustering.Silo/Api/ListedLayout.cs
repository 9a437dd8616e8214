using AnomalyClustering.Embedding.Datasets;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Learns, while a prefix listing streams in, what <see cref="ImageDatasetLayout.Detect"/> would find in it without
/// holding the names: whether the root holds images and how many visible files, and per class folder whether it holds
/// images and how many visible files directly. O(1) time per name; memory O(class folders) plus the normal images of
/// <c>train/good/</c>, which are kept (they are few, and a job reads them by name).
/// </summary>
/// <remarks>
/// Whether the dataset is MVTec is known before the listing (<see cref="ListedImageCount.IsMvtecAsync"/>): its classes are
/// then the folders below <c>test/</c>, otherwise those at the root.
/// </remarks>
internal sealed class ListedLayout(bool mvtec)
{
    private const string TrainGoodPrefix = ImageDatasetLayout.TrainGoodFolder + "/";
    private readonly string _classesPrefix = mvtec ? ImageDatasetLayout.TestFolder + "/" : "";
    private readonly SortedDictionary<string, FolderTally> _classes = new(StringComparer.Ordinal);
    private readonly List<string> _trainGood = [];
    private int _rootFiles;
    private bool _rootHasImages;
    private bool _trainGoodExists;

    /// <summary>Takes one listed name (relative to the dataset prefix) into account.</summary>
    public void Add(string relativeName)
    {
        if (mvtec && relativeName.StartsWith(TrainGoodPrefix, StringComparison.Ordinal))
        {
            _trainGoodExists = true;
            var below = relativeName[TrainGoodPrefix.Length..];
            if (!below.Contains('/', StringComparison.Ordinal) && ImageDatasetLayout.IsImageFileName(below))
            {
                _trainGood.Add(relativeName);
            }
            return;
        }
        if (!relativeName.StartsWith(_classesPrefix, StringComparison.Ordinal))
        {
            return;
        }
        var rest = relativeName[_classesPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            // A file beside the classes: at the root it makes the dataset flat when it is an image; below test/ it is no image.
            if (!mvtec && ImageDatasetLayout.IsVisibleFileName(rest))
            {
                _rootFiles++;
                _rootHasImages |= ImageDatasetLayout.IsImageFileName(rest);
            }
            return;
        }
        var className = rest[..slash];
        if (className.Length == 0 || className[0] == '.')
        {
            return;
        }
        if (!_classes.TryGetValue(className, out var tally))
        {
            _classes[className] = tally = new FolderTally();
        }
        var leaf = rest[(slash + 1)..];
        if (!leaf.Contains('/', StringComparison.Ordinal) && ImageDatasetLayout.IsVisibleFileName(leaf))
        {
            tally.Files++;
            tally.HasImages |= ImageDatasetLayout.IsImageFileName(leaf);
        }
    }

    /// <summary>The layout the listing gives, as <see cref="ImageDatasetLayout.Detect"/> decides it.</summary>
    public ImageFolderLayout Layout => mvtec ? ImageFolderLayout.Mvtec : _rootHasImages ? ImageFolderLayout.Flat : ImageFolderLayout.ClassFolders;

    /// <summary>
    /// The folders whose files are the images, in output order, with their class (null: the root of a flat dataset), and
    /// how many files each gives; and the classes left out by the protocol (the <c>combined</c> class).
    /// </summary>
    public (IReadOnlyList<ListedImageFolder> Folders, IReadOnlyDictionary<string, int> Excluded) ImageFolders()
    {
        if (Layout == ImageFolderLayout.Flat)
        {
            return ([new ListedImageFolder("", null, _rootFiles)], new Dictionary<string, int>());
        }
        // As Detect: image extensions decide which folders are classes, unless no folder has any (then the dataset has no images).
        var anyImages = _classes.Values.Any(tally => tally.HasImages);
        var folders = new List<ListedImageFolder>();
        var excluded = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (className, tally) in _classes)
        {
            if (anyImages && !tally.HasImages)
            {
                continue;
            }
            if (string.Equals(className, ImageDatasetLayout.CombinedClass, StringComparison.OrdinalIgnoreCase))
            {
                if (tally.Files > 0)
                {
                    excluded[className] = tally.Files;
                }
                continue;
            }
            folders.Add(new ListedImageFolder(_classesPrefix + className + "/", className, tally.Files));
        }
        return (folders, excluded);
    }

    /// <summary>True when some image folder holds a file with an image extension.</summary>
    public bool HasImageFiles => _rootHasImages || _classes.Values.Any(tally => tally.HasImages);

    /// <summary>MVTec with a <c>train/good/</c> folder: its images (relative paths, ordinal order; empty when it holds none). Null otherwise.</summary>
    public IReadOnlyList<string>? TrainGoodImages => mvtec && _trainGoodExists ? [.. _trainGood.Order(StringComparer.Ordinal)] : null;

    private sealed class FolderTally
    {
        public int Files { get; set; }

        public bool HasImages { get; set; }
    }
}

/// <summary>One folder of a listed dataset whose files are images to cluster.</summary>
/// <param name="RelativePrefix">The folder below the dataset prefix, with its trailing '/' ("" for the root).</param>
/// <param name="Label">Its class, or null in the flat layout.</param>
/// <param name="Files">The visible files directly in it when it was listed.</param>
public sealed record ListedImageFolder(string RelativePrefix, string? Label, int Files);
