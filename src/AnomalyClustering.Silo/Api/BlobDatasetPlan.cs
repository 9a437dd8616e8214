using System.Globalization;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// A dataset found under a blob prefix by one listing that kept no names (<see cref="BlobDatasetDiscovery.DiscoverAsync"/>):
/// its layout, its image folders and how many images it holds. <see cref="WriteImagesAsync"/> lists the image folders again
/// and writes each image into a job's manifest as the listing arrives, in the order the CLI and an upload give them.
/// </summary>
/// <param name="Prefix">The dataset prefix (with its trailing '/').</param>
/// <param name="Layout">The detected layout.</param>
/// <param name="Folders">The image folders in output order (root, or class folders in ordinal order).</param>
/// <param name="NormalImages">The normal images (explicit, or <c>train/good/</c> in MVTec layout); may be empty.</param>
/// <param name="ExcludedImages">Images left out (the <c>combined</c> class), by class.</param>
/// <param name="MaxImages">The most blobs one job may list (checked again while writing: the prefix may grow in between).</param>
/// <param name="Clustering">The clustering the images are for (its limit is checked again while writing).</param>
public sealed record BlobDatasetPlan(
    string Prefix,
    ImageFolderLayout Layout,
    IReadOnlyList<ListedImageFolder> Folders,
    IReadOnlyList<JobImage> NormalImages,
    IReadOnlyDictionary<string, int> ExcludedImages,
    int MaxImages,
    ClusteringJobOptions Clustering)
{
    /// <summary>The images to cluster when the prefix was listed.</summary>
    public int ImageCount => Folders.Sum(folder => folder.Files);

    /// <summary>
    /// Lists each image folder and adds its visible files to <paramref name="writer"/>, folder by folder, each folder's in
    /// ordinal order (the store lists in that order): O(chunk) memory whatever the number of images.
    /// </summary>
    /// <exception cref="ApiProblemException">400: the prefix grew past <see cref="MaxImages"/> since it was listed.</exception>
    /// <exception cref="Core.Validation.InvalidClusteringInputException">It grew past the clustering's limit.</exception>
    /// <exception cref="InvalidOperationException">The store listed names out of ordinal order (against its contract).</exception>
    public async Task WriteImagesAsync(IBlobStore store, JobManifestWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(writer);
        var limit = Math.Min(MaxImages, JobLimits.MaxClusteredImages(Clustering));
        foreach (var folder in Folders)
        {
            var folderPrefix = Prefix + folder.RelativePrefix;
            string? previous = null;
            await foreach (var entry in store.ListAsync(folderPrefix, cancellationToken).ConfigureAwait(false))
            {
                var name = entry.Name[folderPrefix.Length..];
                if (name.Contains('/', StringComparison.Ordinal) || !ImageDatasetLayout.IsVisibleFileName(name))
                {
                    continue;
                }
                if (previous is not null && string.CompareOrdinal(previous, entry.Name) >= 0)
                {
                    throw new InvalidOperationException($"the blob store listed '{entry.Name}' after '{previous}'; listings must be in ordinal order.");
                }
                previous = entry.Name;
                if (writer.ImageCount == limit)
                {
                    throw limit == MaxImages
                        ? BlobDatasetDiscovery.TooManyBlobs(Prefix, MaxImages)
                        : JobLimits.TooManyImages(Clustering, $"more than {limit.ToString("N0", CultureInfo.InvariantCulture)} images (prefix '{Prefix}' grew while it was submitted)");
                }
                await writer.AddImageAsync(new JobImage(folder.RelativePrefix + name, entry.Name, folder.Label), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
