using System.Numerics.Tensors;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Galleries;

/// <summary>One image's place in its cluster's gallery.</summary>
/// <param name="ImageIndex">Index into <see cref="ClusteringResult.Images"/>.</param>
/// <param name="CentroidDistance">Euclidean distance of its embedding to the cluster's centroid; NaN without embeddings.</param>
/// <param name="IsMedoid">True for the cluster's medoid (the first tile).</param>
public readonly record struct GalleryEntry(int ImageIndex, double CentroidDistance, bool IsMedoid);

/// <summary>The images of one cluster in gallery order.</summary>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Entries">Medoid first, then by ascending distance to the centroid (ties by dataset order).</param>
public sealed record ClusterGallery(int Cluster, IReadOnlyList<GalleryEntry> Entries);

/// <summary>
/// Orders each cluster's images for its gallery: the medoid (the member whose embedding has the smallest sum of
/// Euclidean distances to the other members', METHOD section 3's distance) first, then the others by distance to the
/// cluster's centroid, the most typical first. Without embeddings (result documents from before they were recorded)
/// the dataset order is kept and no medoid is marked.
/// </summary>
/// <remarks>
/// O(sum over clusters of min(n_c, <see cref="ExactMedoidUpTo"/>)^2 D + n_c D) time, O(D) extra memory per cluster: the
/// medoid's all-pairs sum is only paid for clusters of at most <see cref="ExactMedoidUpTo"/> images; larger galleries start
/// with the image nearest to the centroid instead (marked as no medoid), which keeps a report of a million images linear.
/// </remarks>
public static class GalleryOrder
{
    /// <summary>Largest cluster whose medoid is computed (quadratic in the cluster's size).</summary>
    public const int ExactMedoidUpTo = 2000;

    /// <summary>The galleries of all clusters, by cluster index 0 .. K-1.</summary>
    public static IReadOnlyList<ClusterGallery> Of(ClusteringResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var members = new List<int>[result.ClusterCount];
        for (var c = 0; c < members.Length; c++)
        {
            members[c] = [];
        }
        for (var i = 0; i < result.Images.Count; i++)
        {
            members[result.Images[i].Cluster].Add(i);
        }
        var hasEmbeddings = result.Images.Count > 0 && result.Images.All(image => image.Embedding is { Length: > 0 } e && e.Length == result.Images[0].Embedding!.Length);
        var hasDistances = !hasEmbeddings && result.Images.Count > 0 && result.Images.All(image => image.DistanceToCentre is not null);
        return members.Select((indices, cluster) =>
            hasEmbeddings ? Ordered(result, cluster, indices)
            : hasDistances ? ByRecordedDistance(result, cluster, indices)
            : Unordered(cluster, indices)).ToList();
    }

    // A result read without its embeddings (large results): the distances its files recorded, nearest first; no medoid
    // (that needs the embeddings), so the first image is the one nearest the centroid, as the result's pages list them.
    private static ClusterGallery ByRecordedDistance(ClusteringResult result, int cluster, List<int> indices) =>
        new(cluster, indices.Select(i => new GalleryEntry(i, result.Images[i].DistanceToCentre!.Value, IsMedoid: false)).OrderBy(entry => entry.CentroidDistance).ToList());

    private static ClusterGallery Unordered(int cluster, List<int> indices) =>
        new(cluster, indices.Select(i => new GalleryEntry(i, double.NaN, IsMedoid: false)).ToList());

    private static ClusterGallery Ordered(ClusteringResult result, int cluster, List<int> indices)
    {
        if (indices.Count == 0)
        {
            return new ClusterGallery(cluster, []);
        }
        var dimension = result.Images[indices[0]].Embedding!.Length;
        var centroid = new float[dimension];
        foreach (var i in indices)
        {
            TensorPrimitives.Add(centroid, result.Images[i].Embedding!, centroid);
        }
        TensorPrimitives.Divide(centroid, indices.Count, centroid);

        var entries = indices
            .Select(imageIndex => new GalleryEntry(imageIndex, TensorPrimitives.Distance(result.Images[imageIndex].Embedding!, centroid), IsMedoid: false))
            .ToList();
        if (indices.Count > ExactMedoidUpTo)
        {
            // Stable: equal distances keep dataset order.
            return new ClusterGallery(cluster, entries.OrderBy(entry => entry.CentroidDistance).ToList());
        }

        // Sum of distances to the other members, each pair computed once.
        var sums = new double[indices.Count];
        for (var a = 0; a < indices.Count; a++)
        {
            var x = result.Images[indices[a]].Embedding!;
            for (var b = a + 1; b < indices.Count; b++)
            {
                double d = TensorPrimitives.Distance(x, result.Images[indices[b]].Embedding!);
                sums[a] += d;
                sums[b] += d;
            }
        }
        var medoid = 0;
        for (var a = 1; a < sums.Length; a++)
        {
            if (sums[a] < sums[medoid])
            {
                medoid = a;
            }
        }
        var first = entries[medoid] with { IsMedoid = true };
        entries.RemoveAt(medoid);
        // Stable: equal distances keep dataset order.
        var rest = entries.OrderBy(entry => entry.CentroidDistance).ToList();
        rest.Insert(0, first);
        return new ClusterGallery(cluster, rest);
    }
}
