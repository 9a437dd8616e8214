using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Galleries;

/// <summary>
/// Which images a report shows, so that its size and the thumbnails it renders stay bounded at any N: per cluster the
/// first <see cref="ReportOptions.MaxImagesPerCluster"/> of its gallery (most typical first) and as many of its most
/// anomalous images; every image's id and label only while the result has at most
/// <see cref="ReportOptions.FullImageListUpTo"/> images (what re-cutting the tree in the page needs).
/// </summary>
/// <remarks>O(N log N) time (the score order) and O(N) memory in ints.</remarks>
internal sealed class ReportSelection
{
    private ReportSelection(
        IReadOnlyList<ClusterGallery> galleries, int[] listed, int[][] typical, int[][]? byScore, int[] pictured, bool listsEveryImage)
    {
        Galleries = galleries;
        Listed = listed;
        Typical = typical;
        ByScore = byScore;
        Pictured = pictured;
        ListsEveryImage = listsEveryImage;
    }

    /// <summary>Every cluster's full gallery, by cluster index (sizes, medoids, distances).</summary>
    public IReadOnlyList<ClusterGallery> Galleries { get; }

    /// <summary>The image indices the page's data lists, ascending; a gallery refers to an image by its position here.</summary>
    public int[] Listed { get; }

    /// <summary>Per cluster, the positions (in <see cref="Listed"/>) its gallery shows, most typical first.</summary>
    public int[][] Typical { get; }

    /// <summary>Per cluster, the positions its gallery shows when sorted by anomaly score; null without scores.</summary>
    public int[][]? ByScore { get; }

    /// <summary>The image indices some gallery shows: the only ones whose thumbnails are prepared.</summary>
    public int[] Pictured { get; }

    /// <summary>True when <see cref="Listed"/> is every image (re-cutting the tree in the page is possible).</summary>
    public bool ListsEveryImage { get; }

    /// <summary>
    /// The selection for <paramref name="result"/>; <paramref name="holdsEveryImage"/> false when its images are only some of
    /// the job's (a report digest's rows), so that the page never lists them as if they were all.
    /// </summary>
    public static ReportSelection Of(ClusteringResult result, ReportOptions options, bool hasScores, bool holdsEveryImage = true)
    {
        var galleries = GalleryOrder.Of(result);
        var limit = options.MaxImagesPerCluster;
        var typical = galleries.Select(gallery => gallery.Entries.Take(limit).Select(entry => entry.ImageIndex).ToArray()).ToArray();
        var byScore = hasScores
            ? galleries.Select(gallery => gallery.Entries
                // Most anomalous first, ties in gallery order (OrderByDescending is stable).
                .OrderByDescending(entry => result.Images[entry.ImageIndex].AnomalyScore!.Value)
                .Take(limit).Select(entry => entry.ImageIndex).ToArray()).ToArray()
            : null;
        var pictured = typical.SelectMany(ids => ids).Concat(byScore?.SelectMany(ids => ids) ?? []).Distinct().Order().ToArray();
        var listsEveryImage = holdsEveryImage && result.Images.Count <= options.FullImageListUpTo;
        var listed = listsEveryImage ? Enumerable.Range(0, result.Images.Count).ToArray() : pictured;
        var position = new Dictionary<int, int>(listed.Length);
        for (var p = 0; p < listed.Length; p++)
        {
            position[listed[p]] = p;
        }
        int[][] Positions(int[][] indices) => indices.Select(ids => ids.Select(i => position[i]).ToArray()).ToArray();
        return new ReportSelection(galleries, listed, Positions(typical), byScore is null ? null : Positions(byScore), pictured, listsEveryImage);
    }
}
