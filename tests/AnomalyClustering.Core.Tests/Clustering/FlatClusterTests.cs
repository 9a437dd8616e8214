using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Cuts give the same partitions as scipy.cluster.hierarchy.fcluster (maxclust and distance).</summary>
public class FlatClusterTests
{
    public static TheoryData<string, string> CasesAndMethods() => LinkageTests.CasesAndMethods();

    [Theory]
    [MemberData(nameof(CasesAndMethods))]
    public void CutsOfScipysTreeMatchFcluster(string caseName, string method)
    {
        var tree = MergeTree.FromLinkageArray(LinkageFixtures.ScipyLinkage(caseName, method));
        AssertCutsMatch(tree, caseName, method);
    }

    [Theory]
    [MemberData(nameof(CasesAndMethods))]
    public void CutsOfOurTreeMatchFcluster(string caseName, string method)
    {
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var tree = HierarchicalClustering.Linkage(points, count, dimension, LinkageFixtures.Method(method));
        AssertCutsMatch(tree, caseName, method);
    }

    [Fact]
    public void LabelsAreNumberedByFirstPoint()
    {
        // Points 0 and 2 are close, 1 is far: the first cluster is {0, 2}, label 0.
        var tree = HierarchicalClustering.Linkage([0f, 10f, 0.5f], 3, 1, LinkageMethod.Ward);
        Assert.Equal([0, 1, 0], tree.CutToClusters(2));
        Assert.Equal([0, 1, 2], tree.CutToClusters(3));
        Assert.Equal([0, 0, 0], tree.CutToClusters(1));
        Assert.Equal([0, 1, 0], tree.CutAtDistance(0.5));
        Assert.Equal([0, 1, 2], tree.CutAtDistance(0.4999));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(4)]
    public void ClusterCountOutsideOneToNIsRejected(int k)
    {
        var tree = HierarchicalClustering.Linkage([0f, 10f, 0.5f], 3, 1, LinkageMethod.Ward);
        var error = Assert.Throws<InvalidClusteringInputException>(() => tree.CutToClusters(k));
        Assert.Contains("between 1 and", error.Message);
    }

    [Fact]
    public void NanThresholdIsRejected()
    {
        var tree = HierarchicalClustering.Linkage([0f, 10f, 0.5f], 3, 1, LinkageMethod.Ward);
        Assert.Throws<InvalidClusteringInputException>(() => tree.CutAtDistance(double.NaN));
    }

    private static void AssertCutsMatch(MergeTree tree, string caseName, string method)
    {
        var cuts = LinkageFixtures.Case(caseName).GetProperty("cuts").GetProperty(method);
        foreach (var cut in cuts.GetProperty("maxclust").EnumerateArray())
        {
            var k = cut.GetProperty("k").GetInt32();
            Assert.True(Expected(cut).SequenceEqual(tree.CutToClusters(k)), $"{caseName} {method} maxclust k={k}");
        }
        foreach (var cut in cuts.GetProperty("distance").EnumerateArray())
        {
            var t = cut.GetProperty("t").GetDouble();
            Assert.True(Expected(cut).SequenceEqual(tree.CutAtDistance(t)), $"{caseName} {method} distance t={t:R}");
        }
    }

    private static int[] Expected(JsonElement cut) =>
        LinkageFixtures.ByFirstAppearance(cut.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()));
}
