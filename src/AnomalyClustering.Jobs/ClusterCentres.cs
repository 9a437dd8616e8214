using System.Numerics.Tensors;

namespace AnomalyClustering.Jobs;

/// <summary>
/// Each image's Euclidean distance to its cluster's centroid (the mean of the members' embeddings x_i), and per cluster
/// the member nearest to it: the per-image column and the cluster representative of a result's files.
/// </summary>
/// <remarks>O(N D) time, O(K D) extra memory: one pass for the centroids, one for the distances.</remarks>
public sealed class ClusterCentres
{
    private ClusterCentres(double[] distances, string?[] centreImages)
    {
        Distances = distances;
        CentreImages = centreImages;
    }

    /// <summary>Distance of image i (in result order) to its cluster's centroid; NaN when the result has no embeddings.</summary>
    public IReadOnlyList<double> Distances { get; }

    /// <summary>Per cluster 0 .. K-1, the id of the member nearest to the centroid (ties: the first); null without embeddings.</summary>
    public IReadOnlyList<string?> CentreImages { get; }

    /// <summary>Computes the distances and representatives of <paramref name="result"/>.</summary>
    public static ClusterCentres Of(ClusteringResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var count = result.Images.Count;
        var clusters = result.ClusterCount;
        var dimension = result.EmbeddingDimension;
        var hasEmbeddings = count > 0 && result.Images.All(image => image.Embedding is { } e && e.Length == dimension);
        if (!hasEmbeddings)
        {
            return new ClusterCentres(Enumerable.Repeat(double.NaN, count).ToArray(), new string?[clusters]);
        }
        var centroids = new float[clusters * dimension];
        var sizes = new int[clusters];
        foreach (var image in result.Images)
        {
            var centroid = centroids.AsSpan(image.Cluster * dimension, dimension);
            TensorPrimitives.Add(centroid, image.Embedding!, centroid);
            sizes[image.Cluster]++;
        }
        for (var c = 0; c < clusters; c++)
        {
            if (sizes[c] > 0)
            {
                var centroid = centroids.AsSpan(c * dimension, dimension);
                TensorPrimitives.Divide(centroid, sizes[c], centroid);
            }
        }
        var distances = new double[count];
        var nearest = Enumerable.Repeat(-1, clusters).ToArray();
        for (var i = 0; i < count; i++)
        {
            var cluster = result.Images[i].Cluster;
            distances[i] = TensorPrimitives.Distance(result.Images[i].Embedding!, centroids.AsSpan(cluster * dimension, dimension));
            if (nearest[cluster] < 0 || distances[i] < distances[nearest[cluster]])
            {
                nearest[cluster] = i;
            }
        }
        return new ClusterCentres(distances, nearest.Select(i => i < 0 ? null : result.Images[i].Id).ToArray());
    }
}
