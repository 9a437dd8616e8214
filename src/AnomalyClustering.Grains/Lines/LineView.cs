using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Grains.Lines;

/// <summary>A line's catalog as the API answers it (<c>GET /lines/{name}</c>, <c>POST /lines</c>) and <c>line show</c> prints it.</summary>
/// <param name="Name">The line.</param>
/// <param name="Version">The catalog version shown.</param>
/// <param name="Versions">Every version of the line, ascending.</param>
/// <param name="SourceJob">The job the catalog was made from, when the server made it.</param>
/// <param name="Mode">The job's patch-weighting mode.</param>
/// <param name="Backbone">The job's backbone.</param>
/// <param name="DetectionThreshold">The job's anomaly-score threshold, or null.</param>
/// <param name="Margin">The rule's margin.</param>
/// <param name="AcceptanceFactor">The rule's acceptance factor.</param>
/// <param name="EmbeddingDimension">D.</param>
/// <param name="Clusters">The named clusters.</param>
public sealed record LineView(
    string Name,
    int Version,
    IReadOnlyList<int> Versions,
    string? SourceJob,
    string Mode,
    string Backbone,
    double? DetectionThreshold,
    double Margin,
    double AcceptanceFactor,
    int EmbeddingDimension,
    IReadOnlyList<LineClusterView> Clusters)
{
    /// <summary>The view of <paramref name="catalog"/>, one of <paramref name="versions"/>.</summary>
    public static LineView Of(LineCatalog catalog, IReadOnlyList<int> versions)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(
            catalog.Line,
            catalog.Version,
            versions,
            catalog.Scoring?.JobId ?? (catalog.Source.OptionsReference.StartsWith("job:", StringComparison.Ordinal) ? catalog.Source.OptionsReference[4..] : null),
            catalog.Source.Mode,
            catalog.Source.Backbone,
            catalog.DetectionThreshold,
            catalog.Rule.Margin,
            catalog.Rule.AcceptanceFactor,
            catalog.EmbeddingDimension,
            [.. catalog.Clusters.Select((cluster, index) => new LineClusterView(index, cluster.Name, cluster.Size, cluster.Spread, catalog.AcceptanceRadius(index)))]);
    }
}

/// <summary>One cluster (defect type) of a catalog.</summary>
/// <param name="Index">Its index in the catalog (the cut's cluster number).</param>
/// <param name="Name">Its name.</param>
/// <param name="Size">Member images.</param>
/// <param name="Spread">Root-mean-square distance of the members to the centroid.</param>
/// <param name="AcceptanceRadius">Beyond this distance an image is novel.</param>
public sealed record LineClusterView(int Index, string Name, int Size, double Spread, double AcceptanceRadius);
