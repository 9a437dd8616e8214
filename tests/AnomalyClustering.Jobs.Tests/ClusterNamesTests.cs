using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>Cluster names: parsing names.json, editing, checks against the result, and the errors users cause.</summary>
public sealed class ClusterNamesTests
{
    [Fact]
    public void NamesParseTrimAndWriteBackInIndexOrder()
    {
        var names = ClusterNames.Parse("{\"3\": \" scratch \", \"0\": \"crack\"}");
        Assert.Equal(2, names.Count);
        Assert.Equal("crack", names.NameOf(0));
        Assert.Equal("scratch", names.NameOf(3));
        Assert.Null(names.NameOf(1));
        Assert.Equal([0, 3], names.ByCluster.Keys);
        Assert.Equal(names.ByCluster, ClusterNames.Parse(names.ToJson()).ByCluster);
    }

    [Fact]
    public void WithRenamesAndABlankNameRemoves()
    {
        var names = ClusterNames.Empty.With(2, "hole").With(0, "crack");
        Assert.Equal("hole", names.NameOf(2));
        var renamed = names.With(2, "pin hole");
        Assert.Equal("pin hole", renamed.NameOf(2));
        Assert.Equal("hole", names.NameOf(2));
        Assert.Null(renamed.With(2, "  ").NameOf(2));
        Assert.Same(ClusterNames.Empty, ClusterNames.Empty.With(0, "x").With(0, null));
    }

    [Fact]
    public void NamesMustBelongToClustersOfTheResult()
    {
        var names = ClusterNames.Parse("{\"5\": \"stain\"}");
        names.CheckAgainst(6);
        var error = Assert.Throws<InvalidClusteringInputException>(() => names.CheckAgainst(5));
        Assert.Contains("cluster 5, but the result has 5 clusters (0 to 4)", error.Message);
    }

    [Theory]
    [InlineData("[\"crack\"]", "must be a JSON object")]
    [InlineData("{\"x\": \"crack\"}", "'x' is not one")]
    [InlineData("{\"-1\": \"crack\"}", "'-1' is not one")]
    [InlineData("{\"0\": 7}", "must be a string")]
    [InlineData("{\"0\": \"\"}", "is empty")]
    [InlineData("{\"0\": \"a\\nb\"}", "line break")]
    [InlineData("{\"0\": \"a\", \"0\": \"b\"}", "named twice")]
    [InlineData("{\"0\": ", "not valid JSON")]
    public void BadNamesAreInputErrors(string json, string fragment)
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => ClusterNames.Parse(json));
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void OverlongNamesAreRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ClusterNames.Empty.With(0, new string('x', ClusterNames.MaxNameLength + 1)));
        Assert.Equal(ClusterNames.MaxNameLength, ClusterNames.Empty.With(0, new string('x', ClusterNames.MaxNameLength)).NameOf(0)!.Length);
    }
}
