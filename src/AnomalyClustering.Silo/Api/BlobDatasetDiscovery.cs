using System.Globalization;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>A dataset found among blobs: its layout, the images to cluster, the normal images, and what the protocol left out.</summary>
/// <param name="Layout">The detected layout.</param>
/// <param name="Images">The images, in output order (ids: paths below the dataset prefix).</param>
/// <param name="NormalImages">The normal images (explicit, or <c>train/good/</c> in MVTec layout); may be empty.</param>
/// <param name="ExcludedImages">Images left out (the <c>combined</c> class), by class.</param>
public sealed record DiscoveredBlobDataset(
    ImageFolderLayout Layout,
    IReadOnlyList<JobImage> Images,
    IReadOnlyList<JobImage> NormalImages,
    IReadOnlyDictionary<string, int> ExcludedImages);

/// <summary>
/// Finds a dataset among blob names exactly as the CLI finds one in a folder (<see cref="ImageDatasetLayout"/>): the blobs
/// below a prefix are the folder's files. A prefix is listed without keeping its names (O(1) per name, O(class folders)
/// memory); a list of names (an upload) is detected in O(n log n).
/// </summary>
public static class BlobDatasetDiscovery
{
    /// <summary>
    /// Lists the blobs below <paramref name="prefix"/> (and <paramref name="normalPrefix"/>) and detects the dataset, keeping
    /// no image names: the plan's <see cref="BlobDatasetPlan.WriteImagesAsync"/> lists the image folders again straight into
    /// a manifest. Image ids are paths below <paramref name="prefix"/>; normal images below another prefix keep their blob
    /// name as id. The listing stops as soon as it is certain to hold more images than the clustering of
    /// <paramref name="clustering"/> takes (<see cref="JobLimits"/>; see <see cref="ListedImageCount"/> for when that is known early).
    /// </summary>
    /// <exception cref="ApiProblemException">400: a prefix is malformed, holds no images, or holds more than <paramref name="maxImages"/> blobs.</exception>
    /// <exception cref="InvalidClusteringInputException">The prefix holds more images than the clustering takes.</exception>
    public static async Task<BlobDatasetPlan> DiscoverAsync(
        IBlobStore store, string prefix, string? normalPrefix, int maxImages, ClusteringJobOptions clustering, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clustering);
        prefix = NormalisePrefix(prefix, "prefix");
        var mvtec = await ListedImageCount.IsMvtecAsync(store, prefix, cancellationToken).ConfigureAwait(false);
        var count = new ListedImageCount(mvtec);
        var layout = new ListedLayout(mvtec);
        var clusteredLimit = JobLimits.MaxClusteredImages(clustering);
        var listed = 0;
        await foreach (var entry in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (listed++ == maxImages)
            {
                throw TooManyBlobs(prefix, maxImages);
            }
            var name = entry.Name[prefix.Length..];
            count.Add(name);
            layout.Add(name);
            if (count.AtLeast > clusteredLimit)
            {
                throw JobLimits.TooManyImages(clustering, $"more than {clusteredLimit.ToString("N0", CultureInfo.InvariantCulture)} images (prefix '{prefix}'; its listing stopped there)");
            }
        }
        if (listed == 0)
        {
            throw ApiProblemException.BadRequest($"no blobs found under prefix '{prefix}'; upload the dataset first or check the prefix.", "No images");
        }
        var what = $"prefix '{prefix}'";
        if (!layout.HasImageFiles)
        {
            throw NoImages(layout.Layout, what);
        }
        List<JobImage>? normals = null;
        if (!string.IsNullOrWhiteSpace(normalPrefix))
        {
            normalPrefix = NormalisePrefix(normalPrefix, "normalPrefix");
            var normalNames = await ListRelativeAsync(store, normalPrefix, maxImages, cancellationToken).ConfigureAwait(false);
            var inside = normalPrefix.StartsWith(prefix, StringComparison.Ordinal);
            normals = ImageDatasetLayout.ImagesAtRoot(normalNames)
                .Select(name => new JobImage(inside ? normalPrefix[prefix.Length..] + name : normalPrefix + name, normalPrefix + name))
                .ToList();
            if (normals.Count == 0)
            {
                throw ApiProblemException.BadRequest(
                    $"normal prefix '{normalPrefix}' holds no images directly below it (looked for {ImageDatasetLayout.ExtensionList}).", "No normal images");
            }
        }
        if (normals is null && layout.TrainGoodImages is { } trainGood)
        {
            normals = trainGood.Count > 0 ? trainGood.Select(relative => new JobImage(relative, prefix + relative)).ToList() : throw NoTrainGoodImages(what);
        }
        var (folders, excluded) = layout.ImageFolders();
        var plan = new BlobDatasetPlan(prefix, layout.Layout, folders, normals ?? [], excluded, maxImages, clustering);
        // A class-folder dataset is only known to be too large here (see ListedImageCount).
        JobLimits.CheckClustering(clustering, plan.ImageCount);
        return plan;
    }

    /// <summary>
    /// The dataset of the blobs <paramref name="relativeNames"/> below <paramref name="prefix"/>; <paramref name="normals"/>
    /// null means the layout's own normal images (<c>train/good/</c> in MVTec layout).
    /// </summary>
    /// <exception cref="ApiProblemException">400: no images, or an empty <c>train/good/</c>.</exception>
    public static DiscoveredBlobDataset FromNames(string prefix, IEnumerable<string> relativeNames, string what, IReadOnlyList<JobImage>? normals)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var detected = ImageDatasetLayout.Detect(relativeNames);
        if (!detected.HasImageFiles)
        {
            throw NoImages(detected.Layout, what);
        }
        var images = detected.Images.Select(image => new JobImage(image.RelativePath, prefix + image.RelativePath, image.Label)).ToList();
        if (normals is null && detected.TrainGoodImages is { } trainGood)
        {
            if (!ImageDatasetLayout.AnyImageFile(trainGood))
            {
                throw NoTrainGoodImages(what);
            }
            normals = trainGood.Select(relative => new JobImage(relative, prefix + relative)).ToList();
        }
        return new DiscoveredBlobDataset(detected.Layout, images, normals ?? [], detected.ExcludedImages);
    }

    private static ApiProblemException NoImages(ImageFolderLayout layout, string what) =>
        ApiProblemException.BadRequest(layout == ImageFolderLayout.Mvtec
            ? $"{what} looks like MVTec (it has test/) but test/<class>/ holds no images ({ImageDatasetLayout.ExtensionList})."
            : $"no images found in {what} or its class folders (looked for {ImageDatasetLayout.ExtensionList}).", "No images");

    private static ApiProblemException NoTrainGoodImages(string what) =>
        ApiProblemException.BadRequest(
            $"normal images folder {ImageDatasetLayout.TrainGoodFolder}/ of {what} holds no images (looked for {ImageDatasetLayout.ExtensionList}).", "No normal images");

    internal static ApiProblemException TooManyBlobs(string prefix, int maxImages) =>
        ApiProblemException.BadRequest(
            $"prefix '{prefix}' holds more than {maxImages} blobs, the most one job may list ({JobApiOptions.Section}:MaxPrefixImages).", "Dataset too large");

    /// <summary>The prefix with one trailing '/', checked against the blob naming rules.</summary>
    /// <exception cref="ApiProblemException">400: empty or malformed.</exception>
    public static string NormalisePrefix(string? prefix, string field)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            throw ApiProblemException.BadRequest($"{field} is empty; give the blob prefix of the dataset, e.g. 'datasets/bottle/'.");
        }
        var normalised = prefix.TrimEnd('/') + "/";
        try
        {
            BlobName.ValidatePrefix(normalised, field);
        }
        catch (InvalidBlobNameException e)
        {
            throw ApiProblemException.BadRequest($"{field} '{prefix}' is not a valid blob prefix: {e.Message}");
        }
        if (normalised == "/")
        {
            throw ApiProblemException.BadRequest($"{field} '{prefix}' names the whole store; give the dataset's own prefix, e.g. 'datasets/bottle/'.");
        }
        return normalised;
    }

    private static async Task<List<string>> ListRelativeAsync(IBlobStore store, string prefix, int maxImages, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (names.Count == maxImages)
            {
                throw TooManyBlobs(prefix, maxImages);
            }
            names.Add(entry.Name[prefix.Length..]);
        }
        return names;
    }
}
