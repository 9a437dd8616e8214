using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>One image of a clustering job: a stable id shown in the outputs, the file to read, and its label when known.</summary>
/// <param name="Id">Identifies the image in outputs (e.g. its path relative to the dataset folder).</param>
/// <param name="Path">The image file.</param>
/// <param name="Label">The ground-truth class, or null when the dataset has no labels.</param>
public sealed record DatasetImage(string Id, string Path, string? Label = null);

/// <summary>
/// The images a job clusters, with optional ground-truth labels (all images labelled or none), and
/// the optional normal (defect-free) images of semi-supervised mode.
/// </summary>
public sealed class ClusteringDataset
{
    /// <summary>Checks and holds the images; labels must be given for all images or for none.</summary>
    /// <exception cref="InvalidClusteringInputException">No images, duplicate ids, or labels on only some images.</exception>
    public ClusteringDataset(IReadOnlyList<DatasetImage> images, IReadOnlyList<DatasetImage>? normalImages = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            throw new InvalidClusteringInputException("the dataset has no images to cluster.", nameof(images));
        }
        var labelled = images.Count(image => image.Label is not null);
        if (labelled != 0 && labelled != images.Count)
        {
            var unlabelled = images.First(image => image.Label is null);
            throw new InvalidClusteringInputException(
                $"{labelled} of {images.Count} images have labels but '{unlabelled.Id}' has none; label every image or none.", nameof(images));
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            if (!ids.Add(image.Id))
            {
                throw new InvalidClusteringInputException($"image id '{image.Id}' occurs twice; ids must be unique.", nameof(images));
            }
        }
        Images = images;
        NormalImages = normalImages ?? [];
        HasLabels = labelled == images.Count;
        ClassNames = HasLabels
            ? images.Select(image => image.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()
            : [];
    }

    /// <summary>The images to cluster, in output order.</summary>
    public IReadOnlyList<DatasetImage> Images { get; }

    /// <summary>Defect-free images for semi-supervised scores; empty when none were given.</summary>
    public IReadOnlyList<DatasetImage> NormalImages { get; }

    /// <summary>True when every image has a ground-truth label.</summary>
    public bool HasLabels { get; }

    /// <summary>The distinct labels in ordinal order; empty without labels.</summary>
    public IReadOnlyList<string> ClassNames { get; }
}
