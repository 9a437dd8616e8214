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

    /// <summary>
    /// Computes the distances and representatives of <paramref name="result"/>, from its images' embeddings or, when
    /// given, from <paramref name="embeddings"/> (N x D row-major in image order: large results carry no per-image copy).
    /// </summary>
    public static ClusterCentres Of(ClusteringResult result, float[]? embeddings = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var count = result.Images.Count;
        var clusters = result.ClusterCount;
        var dimension = result.EmbeddingDimension;
        var rows = EmbeddingRows.Of(result, embeddings);
        if (rows is null)
        {
            return new ClusterCentres(Enumerable.Repeat(double.NaN, count).ToArray(), new string?[clusters]);
        }
        var centroids = new float[clusters * dimension];
        var sizes = new int[clusters];
        for (var i = 0; i < count; i++)
        {
            var cluster = result.Images[i].Cluster;
            var centroid = centroids.AsSpan(cluster * dimension, dimension);
            TensorPrimitives.Add(centroid, rows(i).Span, centroid);
            sizes[cluster]++;
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
            distances[i] = TensorPrimitives.Distance(rows(i).Span, centroids.AsSpan(cluster * dimension, dimension));
            if (nearest[cluster] < 0 || distances[i] < distances[nearest[cluster]])
            {
                nearest[cluster] = i;
            }
        }
        return new ClusterCentres(distances, nearest.Select(i => i < 0 ? null : result.Images[i].Id).ToArray());
    }
}

/// <summary>The rows x_i of a result's embeddings, wherever they are held.</summary>
internal static class EmbeddingRows
{
    /// <summary>
    /// Row i of <paramref name="embeddings"/> when it is N x D, else each image's own embedding when every image has one;
    /// null when the result has no embeddings.
    /// </summary>
    public static Func<int, ReadOnlyMemory<float>>? Of(ClusteringResult result, float[]? embeddings)
    {
        var count = result.Images.Count;
        var dimension = result.EmbeddingDimension;
        if (count == 0 || dimension < 1)
        {
            return null;
        }
        if (embeddings is not null && embeddings.LongLength == (long)count * dimension)
        {
            return i => embeddings.AsMemory(i * dimension, dimension);
        }
        return result.Images.All(image => image.Embedding is { } e && e.Length == dimension) ? i => result.Images[i].Embedding : null;
    }
}
