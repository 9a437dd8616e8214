using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Lines;

/// <summary>Catalog clusters from a cut: centroids, sizes and spreads checked by hand, and from a real Ward cut.</summary>
public class LineCatalogBuilderTests
{
    [Fact]
    public void CentroidsSizesAndSpreadsOfAHandMadeCut()
    {
        float[] points = [0, 0, 2, 0, 10, 10, 1, 3, 10, 12];
        var clusters = LineCatalogBuilder.FromCut(points, 5, 2, [0, 0, 1, 0, 1], ["crack", "stain"]);
        Assert.Equal(["crack", "stain"], clusters.Select(c => c.Name));
        Assert.Equal(3, clusters[0].Size);
        Assert.Equal([1f, 1f], clusters[0].Centroid);
        // Squared distances to (1, 1): 2, 2, 4 -> sqrt(8 / 3).
        Assert.Equal(Math.Sqrt(8.0 / 3), clusters[0].Spread, 1e-12);
        Assert.Equal(2, clusters[1].Size);
        Assert.Equal([10f, 11f], clusters[1].Centroid);
        Assert.Equal(1.0, clusters[1].Spread, 1e-12);
    }

    [Fact]
    public void TheSpreadSquaredTimesTheSizeIsTheClustersWardTerm()
    {
        // sum_c n_c s_c^2 is Ward's criterion, the within-cluster sum of squares of the cut.
        var random = new Random(5);
        var points = Enumerable.Range(0, 40 * 6).Select(_ => (float)random.NextDouble()).ToArray();
        var tree = HierarchicalClustering.Linkage(points, 40, 6, LinkageMethod.Ward);
        var cut = tree.CutToClusters(4);
        var clusters = LineCatalogBuilder.FromCut(points, 40, 6, cut, Enumerable.Range(0, 4).Select(k => $"type {k}").ToList());
        Assert.Equal(4, clusters.Count);
        Assert.Equal(40, clusters.Sum(c => c.Size));
        double within = 0;
        for (var i = 0; i < 40; i++)
        {
            var centroid = clusters[cut[i]].Centroid;
            for (var d = 0; d < 6; d++)
            {
                within += Math.Pow(points[i * 6 + d] - centroid[d], 2);
            }
        }
        Assert.Equal(within, clusters.Sum(c => c.Size * c.Spread * c.Spread), 1e-9);
        Assert.Equal(Enumerable.Range(0, 4).Select(k => cut.Count(c => c == k)), clusters.Select(c => c.Size));
    }

    [Fact]
    public void BadCutsAreRefusedWithTheirReason()
    {
        float[] points = [0, 0, 1, 1];
        Assert.Contains("no member", Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 2, 2, [0, 0], ["a", "b"])).Message);
        Assert.Contains("clusters 0..1", Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 2, 2, [0, 2], ["a", "b"])).Message);
        Assert.Contains("named 'a'", Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 2, 2, [0, 1], ["a", "a"])).Message);
        Assert.Contains("blank", Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 2, 2, [0, 1], ["a", " "])).Message);
        Assert.Contains("NaN", Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut([0, float.NaN, 1, 1], 2, 2, [0, 1], ["a", "b"])).Message);
        Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 3, 2, [0, 1, 1], ["a", "b"]));
        Assert.Throws<InvalidClusteringInputException>(() => LineCatalogBuilder.FromCut(points, 2, 2, [0], ["a"]));
    }
}
