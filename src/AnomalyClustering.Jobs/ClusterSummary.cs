
namespace AnomalyClustering.Jobs;

/// <summary>One cluster of a result: its size, its label counts (most frequent first) and a few image ids.</summary>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Size">Number of images.</param>
/// <param name="LabelCounts">Images per ground-truth label, most frequent first; empty without labels.</param>
/// <param name="ExampleIds">The first few image ids of the cluster.</param>
public sealed record ClusterSummary(int Cluster, int Size, IReadOnlyList<KeyValuePair<string, int>> LabelCounts, IReadOnlyList<string> ExampleIds)
{
    /// <summary>The clusters of a result, largest first (ties by index).</summary>
    public static IReadOnlyList<ClusterSummary> Of(ClusteringResult result, int examples = 3) =>
        result.Images
            .GroupBy(image => image.Cluster)
            .Select(group => new ClusterSummary(
                group.Key,
                group.Count(),
                group.Where(image => image.Label is not null)
                    .GroupBy(image => image.Label!, StringComparer.Ordinal)
                    .Select(labels => KeyValuePair.Create(labels.Key, labels.Count()))
                    .OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal)
                    .ToList(),
                group.Take(examples).Select(image => image.Id).ToList()))
            .OrderByDescending(cluster => cluster.Size).ThenBy(cluster => cluster.Cluster)
            .ToList();
}
