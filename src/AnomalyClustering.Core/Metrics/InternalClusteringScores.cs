using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// Label-free (internal) scores of a flat clustering of points: the silhouette and the Calinski-Harabasz index, each
/// equal to scikit-learn's <c>silhouette_score</c> / <c>calinski_harabasz_score</c> on the same values in float64
/// (Euclidean distances, the same special cases). Labels are 0-based cluster indices.
/// </summary>
public static class InternalClusteringScores
{
    /// <summary>
    /// The mean silhouette coefficient (b - a) / max(a, b) over all points, a the mean distance to the other points of the
    /// own cluster and b the smallest mean distance to another cluster; a point alone in its cluster scores 0
    /// (scikit-learn's silhouette_score, metric 'euclidean'). O(N^2 D) time, O(N^2) memory for the condensed distances.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 or more than N - 1 clusters, or mismatched lengths.</exception>
    public static double Silhouette(ReadOnlySpan<float> points, int dimension, ReadOnlySpan<int> labels)
    {
        var count = labels.Length;
        Guard.AtLeast(dimension, 1, "dimension");
        Guard.Length(points.Length, count * dimension, "points (N x D)");
        return Silhouette(CondensedDistanceMatrix.FromPoints(points, count, dimension), labels);
    }

    /// <summary>
    /// The silhouette from the condensed Euclidean distances of the points (SciPy's pdist layout), so that several
    /// labelings of the same points share one matrix. O(N^2 + N K) time.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 or more than N - 1 clusters, or mismatched lengths.</exception>
    public static double Silhouette(CondensedDistanceMatrix distances, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(distances);
        var count = labels.Length;
        Guard.Length(distances.PointCount, count, "distances (points)");
        var values = distances.Values;
        var bases = CondensedDistanceMatrix.RowBases(count);
        var clusters = CountClusters(labels);
        var sizes = new int[clusters];
        foreach (var label in labels)
        {
            sizes[label]++;
        }
        var sums = new double[clusters];
        var total = 0.0;
        for (var i = 0; i < count; i++)
        {
            Array.Clear(sums);
            // Row i of the symmetric matrix, j ascending: (j, i) below the diagonal, (i, j) above it.
            for (var j = 0; j < i; j++)
            {
                sums[labels[j]] += values[bases[j] + i];
            }
            for (var j = i + 1; j < count; j++)
            {
                sums[labels[j]] += values[bases[i] + j];
            }
            var own = labels[i];
            if (sizes[own] == 1)
            {
                continue; // scikit-learn: a point alone in its cluster has silhouette 0.
            }
            var a = sums[own] / (sizes[own] - 1);
            var b = double.PositiveInfinity;
            for (var c = 0; c < clusters; c++)
            {
                if (c != own && sizes[c] > 0)
                {
                    b = Math.Min(b, sums[c] / sizes[c]);
                }
            }
            var denominator = Math.Max(a, b);
            // numpy.nan_to_num: 0 / 0 (coincident points) counts as 0.
            total += denominator == 0 ? 0 : (b - a) / denominator;
        }
        return total / count;
    }

    /// <summary>
    /// The Calinski-Harabasz index (variance ratio): between-cluster dispersion / (K - 1) over within-cluster dispersion /
    /// (N - K), 1 when every cluster is a single repeated point (scikit-learn's calinski_harabasz_score). O(N D) time, O(K D)
    /// memory.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 or more than N - 1 clusters, or mismatched lengths.</exception>
    public static double CalinskiHarabasz(ReadOnlySpan<float> points, int dimension, ReadOnlySpan<int> labels)
    {
        var count = labels.Length;
        Guard.AtLeast(dimension, 1, "dimension");
        Guard.Length(points.Length, count * dimension, "points (N x D)");
        var clusters = CountClusters(labels);
        var sizes = new int[clusters];
        var means = new double[clusters * dimension];
        var mean = new double[dimension];
        for (var i = 0; i < count; i++)
        {
            var x = points.Slice(i * dimension, dimension);
            var clusterMean = means.AsSpan(labels[i] * dimension, dimension);
            sizes[labels[i]]++;
            for (var d = 0; d < dimension; d++)
            {
                clusterMean[d] += x[d];
                mean[d] += x[d];
            }
        }
        for (var d = 0; d < dimension; d++)
        {
            mean[d] /= count;
        }
        for (var c = 0; c < clusters; c++)
        {
            var clusterMean = means.AsSpan(c * dimension, dimension);
            for (var d = 0; d < dimension; d++)
            {
                clusterMean[d] /= sizes[c];
            }
        }
        var between = 0.0;
        for (var c = 0; c < clusters; c++)
        {
            var clusterMean = means.AsSpan(c * dimension, dimension);
            var squared = 0.0;
            for (var d = 0; d < dimension; d++)
            {
                var difference = clusterMean[d] - mean[d];
                squared += difference * difference;
            }
            between += sizes[c] * squared;
        }
        var within = 0.0;
        for (var i = 0; i < count; i++)
        {
            var x = points.Slice(i * dimension, dimension);
            var clusterMean = means.AsSpan(labels[i] * dimension, dimension);
            for (var d = 0; d < dimension; d++)
            {
                var difference = x[d] - clusterMean[d];
                within += difference * difference;
            }
        }
        return within == 0 ? 1.0 : between * (count - clusters) / (within * (clusters - 1.0));
    }

    /// <summary>Number of clusters K of 0-based labels, checked as scikit-learn does: 2 &lt;= K &lt;= N - 1, every index used.</summary>
    private static int CountClusters(ReadOnlySpan<int> labels)
    {
        var clusters = 0;
        foreach (var label in labels)
        {
            if (label < 0)
            {
                throw new InvalidClusteringInputException($"cluster label {label} is negative; labels are 0-based cluster indices.", nameof(labels));
            }
            clusters = Math.Max(clusters, label + 1);
        }
        if (clusters < 2 || clusters > labels.Length - 1)
        {
            throw new InvalidClusteringInputException(
                $"{clusters} clusters of {labels.Length} points; internal scores need between 2 and N - 1 clusters.", nameof(labels));
        }
        return clusters;
    }
}
