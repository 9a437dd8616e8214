using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Counts, while a prefix listing streams in, the fewest images the finished listing can give the job under the layout
/// rules of <see cref="ImageDatasetLayout.Detect"/>, so that a listing stops as soon as it is certain to exceed the
/// clustering's limit instead of after a million names. O(1) time and memory per name.
/// </summary>
/// <remarks>
/// Whether the dataset is MVTec (<c>test/&lt;class&gt;/</c>) is known before the listing (<see cref="IsMvtecAsync"/>
/// probes <c>test/</c> alone), so each name counts for one layout only: MVTec counts <c>test/&lt;class&gt;/</c> images
/// (not the <c>combined</c> class); otherwise root images, which make the dataset flat however many class folders follow.
/// Class-folder images are not counted: one image at the root, listed later, would make the dataset flat, so a
/// class-folder dataset is only known to be too large once its listing is complete.
/// </remarks>
internal sealed class ListedImageCount(bool mvtec)
{
    /// <summary>The fewest images the finished listing can give the job.</summary>
    public int AtLeast { get; private set; }

    /// <summary>Counts one listed name (relative to the dataset prefix).</summary>
    public void Add(string relativeName)
    {
        var parts = relativeName.Split('/');
        var counts = mvtec
            ? parts.Length == 3 && parts[0] == ImageDatasetLayout.TestFolder && IsClassFolder(parts[1]) && ImageDatasetLayout.IsImageFileName(parts[2])
            : parts.Length == 1 && ImageDatasetLayout.IsImageFileName(parts[0]);
        if (counts)
        {
            AtLeast++;
        }
    }

    /// <summary>
    /// True when the dataset below <paramref name="prefix"/> is MVTec: <c>test/</c> has a visible sub-folder. Lists only
    /// below <c>test/</c> and stops at the first name that decides.
    /// </summary>
    public static async Task<bool> IsMvtecAsync(IBlobStore store, string prefix, CancellationToken cancellationToken)
    {
        var testPrefix = prefix + ImageDatasetLayout.TestFolder + "/";
        await foreach (var entry in store.ListAsync(testPrefix, cancellationToken).ConfigureAwait(false))
        {
            var below = entry.Name[testPrefix.Length..];
            if (below.Contains('/', StringComparison.Ordinal) && below[0] != '.')
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsClassFolder(string name) =>
        name.Length > 0 && name[0] != '.' && !string.Equals(name, ImageDatasetLayout.CombinedClass, StringComparison.OrdinalIgnoreCase);
}
