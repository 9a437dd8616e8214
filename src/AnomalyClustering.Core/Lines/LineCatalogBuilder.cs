using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>
/// Builds a catalog's clusters from a flat cut of a merge tree: per cluster the members' mean embedding (centroid), their
/// count and their spread (root-mean-square distance to the centroid). O(N D) time, O(K D) memory beyond the input.
/// </summary>
public static class LineCatalogBuilder
{
    /// <summary>
    /// The clusters of a cut. <paramref name="clusterOfPoint"/> gives each of the <paramref name="count"/> embeddings
    /// (row-major in <paramref name="embeddings"/>, <paramref name="dimension"/> values each) its cluster 0..K-1;
    /// <paramref name="names"/> names cluster k (K names). A cluster with no member is an error: a cut never makes one.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Shapes disagree, a label is out of range, a cluster is empty, a name is blank or repeated, or an embedding is not finite.</exception>
    public static IReadOnlyList<CatalogCluster> FromCut(ReadOnlySpan<float> embeddings, int count, int dimension, ReadOnlySpan<int> clusterOfPoint, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (count < 1 || dimension < 1 || embeddings.Length != (long)count * dimension)
        {
            throw new InvalidClusteringInputException(
                $"expected {count} embeddings of {dimension} values ({(long)count * dimension} floats), got {embeddings.Length} floats.", nameof(embeddings));
        }
        if (clusterOfPoint.Length != count)
        {
            throw new InvalidClusteringInputException($"expected a cluster for each of the {count} embeddings, got {clusterOfPoint.Length}.", nameof(clusterOfPoint));
        }
        CheckNames(names);
        var clusterCount = names.Count;
        var sums = new double[clusterCount * dimension];
        var sizes = new int[clusterCount];
        for (var i = 0; i < count; i++)
        {
            var cluster = clusterOfPoint[i];
            if ((uint)cluster >= (uint)clusterCount)
            {
                throw new InvalidClusteringInputException($"embedding {i} is in cluster {cluster}; the cut has clusters 0..{clusterCount - 1}.", nameof(clusterOfPoint));
            }
            sizes[cluster]++;
            var row = embeddings.Slice(i * dimension, dimension);
            var sum = sums.AsSpan(cluster * dimension, dimension);
            for (var d = 0; d < dimension; d++)
            {
                if (!float.IsFinite(row[d]))
                {
                    throw new InvalidClusteringInputException($"embedding {i} holds NaN or infinity.", nameof(embeddings));
                }
                sum[d] += row[d];
            }
        }
        var centroids = new float[clusterCount][];
        for (var c = 0; c < clusterCount; c++)
        {
            if (sizes[c] == 0)
            {
                throw new InvalidClusteringInputException($"cluster {c} ('{names[c]}') has no member; a catalog cluster needs at least one image.", nameof(clusterOfPoint));
            }
            centroids[c] = new float[dimension];
            for (var d = 0; d < dimension; d++)
            {
                centroids[c][d] = (float)(sums[c * dimension + d] / sizes[c]);
            }
        }
        // Second pass against the rounded centroids, so that a spread is exactly what the rule measures against.
        var squares = new double[clusterCount];
        for (var i = 0; i < count; i++)
        {
            var centroid = centroids[clusterOfPoint[i]];
            var row = embeddings.Slice(i * dimension, dimension);
            double sum = 0;
            for (var d = 0; d < dimension; d++)
            {
                double difference = row[d] - centroid[d];
                sum += difference * difference;
            }
            squares[clusterOfPoint[i]] += sum;
        }
        var clusters = new CatalogCluster[clusterCount];
        for (var c = 0; c < clusterCount; c++)
        {
            clusters[c] = new CatalogCluster(names[c], sizes[c], centroids[c], Math.Sqrt(squares[c] / sizes[c]));
        }
        return clusters;
    }

    private static void CheckNames(IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            throw new InvalidClusteringInputException("a catalog needs at least one cluster.", nameof(names));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new InvalidClusteringInputException("every catalog cluster needs a name; one is blank.", nameof(names));
            }
            if (!seen.Add(name))
            {
                throw new InvalidClusteringInputException($"two clusters are named '{name}'; a name must say which defect type it is, so each is used once.", nameof(names));
            }
        }
    }
}
