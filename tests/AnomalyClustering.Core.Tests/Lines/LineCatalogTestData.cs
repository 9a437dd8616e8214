using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Core.Tests.Lines;

/// <summary>Small hand-made catalogs for the rule's tests.</summary>
internal static class LineCatalogTestData
{
    public static readonly CatalogSource Source = new("resnet50-layer2-layer3", "job:line-test", "jobs/line-test/normal-bank", "semi-supervised");

    /// <summary>A catalog of the given clusters in 2-D.</summary>
    public static LineCatalog Catalog(AssignmentRuleSettings? settings = null, params CatalogCluster[] clusters) =>
        new("tiles", 3, Source, 0.42, settings ?? AssignmentRuleSettings.Default, clusters[0].Centroid.Length, clusters);

    public static CatalogCluster Cluster(string name, int size, double spread, params float[] centroid) => new(name, size, centroid, spread);
}
