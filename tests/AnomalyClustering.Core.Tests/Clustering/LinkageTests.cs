using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Merges and heights equal to scipy.cluster.hierarchy.linkage on random data and on exact ties.</summary>
public class LinkageTests
{
    public static TheoryData<string, string> CasesAndMethods()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in LinkageFixtures.CaseNames)
        {
            foreach (var method in LinkageFixtures.Methods)
            {
                data.Add(name, method);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesAndMethods))]
    public void DoublePointsGiveScipysLinkage(string caseName, string method)
    {
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var tree = HierarchicalClustering.Linkage(points, count, dimension, LinkageFixtures.Method(method));
        Assert.Equal(count, tree.PointCount);
        LinkageFixtures.AssertSameLinkage(LinkageFixtures.ScipyLinkage(caseName, method), tree, $"{caseName} {method}");
    }

    [Theory]
    [MemberData(nameof(CasesAndMethods))]
    public void FloatPointsGiveScipysLinkage(string caseName, string method)
    {
        // The fixture points are float32 values, so the float path must reproduce SciPy too.
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var singles = Array.ConvertAll(points, v => (float)v);
        var tree = HierarchicalClustering.Linkage(singles, count, dimension, LinkageFixtures.Method(method));
        LinkageFixtures.AssertSameLinkage(LinkageFixtures.ScipyLinkage(caseName, method), tree, $"{caseName} {method} (float)");
    }

    [Theory]
    [InlineData("duplicates_n60")]
    [InlineData("rand_n200_d8")]
    public void LinkageOnAMatrixLeavesItIntactAndInPlaceConsumesIt(string caseName)
    {
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var distances = CondensedDistanceMatrix.FromPoints(points, count, dimension);
        var before = (double[])distances.Values.Clone();
        foreach (var method in LinkageFixtures.Methods)
        {
            var tree = HierarchicalClustering.Linkage(distances, LinkageFixtures.Method(method));
            LinkageFixtures.AssertSameLinkage(LinkageFixtures.ScipyLinkage(caseName, method), tree, $"{caseName} {method} (copy)");
            Assert.Equal(before, distances.Values);
        }

        var inPlace = HierarchicalClustering.LinkageInPlace(distances, LinkageMethod.Ward);
        LinkageFixtures.AssertSameLinkage(LinkageFixtures.ScipyLinkage(caseName, "ward"), inPlace, $"{caseName} ward (in place)");
        Assert.True(distances.IsConsumed);
        Assert.Throws<InvalidOperationException>(() => distances.Values);
        Assert.Throws<InvalidOperationException>(() => HierarchicalClustering.LinkageInPlace(distances, LinkageMethod.Ward));
    }

    [Fact]
    public void TwoPointsMergeOnceAtTheirDistance()
    {
        foreach (var method in Enum.GetValues<LinkageMethod>())
        {
            var tree = HierarchicalClustering.Linkage([0f, 0f, 3f, 4f], 2, 2, method);
            Assert.Equal([new MergeStep(0, 1, 5.0, 2)], tree.LinkageMatrix);
        }
    }

    [Fact]
    public void LinkageArrayRoundTripsThroughFromLinkageArray()
    {
        var (points, count, dimension) = LinkageFixtures.Points("grid_6x6");
        var tree = HierarchicalClustering.Linkage(points, count, dimension, LinkageMethod.Average);
        var copy = MergeTree.FromLinkageArray(tree.ToLinkageArray());
        Assert.Equal(tree.LinkageMatrix, copy.LinkageMatrix);
    }
}
