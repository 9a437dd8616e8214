using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Galleries;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>Medoid first, then by distance to the centroid; dataset order for results without embeddings.</summary>
public sealed class GalleryOrderTests
{
    [Fact]
    public void The_medoid_comes_first_then_the_images_nearest_the_centroid()
    {
        // Cluster 0 on a line at 0, 1, 2, 10: distance sums 13, 11, 11, 27 (the first of the tie is the medoid); centroid 3.25.
        var result = ResultOf(
            ("a", 0, [0f, 0f]), ("b", 0, [1f, 0f]), ("far", 1, [50f, 50f]), ("c", 0, [2f, 0f]), ("d", 0, [10f, 0f]), ("near", 1, [51f, 50f]));
        var galleries = GalleryOrder.Of(result);
        Assert.Equal(2, galleries.Count);
        var first = galleries[0];
        Assert.Equal([1, 3, 0, 4], first.Entries.Select(e => e.ImageIndex));
        Assert.True(first.Entries[0].IsMedoid);
        Assert.All(first.Entries.Skip(1), e => Assert.False(e.IsMedoid));
        Assert.Equal([2.25, 1.25, 3.25, 6.75], first.Entries.Select(e => e.CentroidDistance), (x, y) => Math.Abs(x - y) < 1e-6);
        // Two members: both have the same sum; the first in dataset order is the medoid.
        Assert.Equal([2, 5], galleries[1].Entries.Select(e => e.ImageIndex));
    }

    [Fact]
    public void Without_embeddings_the_dataset_order_is_kept_and_no_medoid_is_marked()
    {
        var result = ResultOf(("a", 1, [0f]), ("b", 0, [1f]), ("c", 1, [2f]), ("d", 0, [3f]));
        result = result with { Images = result.Images.Select(i => i with { Embedding = null }).ToArray() };
        var galleries = GalleryOrder.Of(result);
        Assert.Equal([1, 3], galleries[0].Entries.Select(e => e.ImageIndex));
        Assert.Equal([0, 2], galleries[1].Entries.Select(e => e.ImageIndex));
        Assert.All(galleries.SelectMany(g => g.Entries), e => Assert.False(e.IsMedoid || double.IsFinite(e.CentroidDistance)));
    }

    /// <summary>A real clustering result whose images are then given the clusters and embeddings of the test.</summary>
    internal static ClusteringResult ResultOf(params (string Id, int Cluster, float[] Embedding)[] images)
    {
        var dimension = images[0].Embedding.Length;
        var matrix = images.SelectMany(i => i.Embedding).ToArray();
        var clustered = EmbeddingClustering.Run(matrix, images.Length, dimension, images.Select(i => i.Id).ToArray(), null, new ClusteringJobOptions { ClusterCount = 2 });
        return clustered with { Images = images.Select(i => new ClusteredImage(i.Id, i.Cluster, null, null, i.Embedding)).ToArray() };
    }
}
