using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Testing;
using static AnomalyClustering.Core.Tests.Lines.LineCatalogTestData;

namespace AnomalyClustering.Core.Tests.Lines;

/// <summary>The assignment rule: nearest by Ward increase, the margin, the acceptance radius, and its agreement with SciPy's Ward.</summary>
public class WardAssignmentRuleTests
{
    private static readonly AssignmentRuleSettings Wide = new(0.1, 100);

    [Fact]
    public void NearestIsByWardIncreaseNotByDistance()
    {
        // x is 1.05 from the 99-image cluster and 1.0 from the singleton: joining the singleton raises Ward's criterion
        // by 1/2 * 1.0^2 = 0.5, joining the large one by 99/100 * 1.05^2 = 1.0915.
        var rule = new WardAssignmentRule(Catalog(Wide, Cluster("big", 99, 1, 0, 0), Cluster("single", 1, 0, 2.05f, 0)));
        var decision = rule.Assign([1.05f, 0]);
        Assert.Equal(1.05, decision.Distances[0], 1e-6);
        Assert.Equal(1.0, decision.Distances[1], 1e-6);
        Assert.Equal(99.0 / 100 * 1.05 * 1.05, decision.WardIncreases[0], 1e-6);
        Assert.Equal(0.5 * 1.0, decision.WardIncreases[1], 1e-6);
        Assert.Equal(1, decision.Nearest);

        // At 0.9 from big and 1.15 from the singleton: by increase 0.8019 against 0.66125, still the singleton, though by distance big is nearer.
        var closerToBig = rule.Assign([0.9f, 0]);
        Assert.True(closerToBig.Distances[0] < closerToBig.Distances[1]);
        Assert.Equal(1, closerToBig.Nearest);
        Assert.Equal("single", closerToBig.NearestName);
    }

    [Fact]
    public void WardIncreaseIsHalfTheSquaredScipyMergeHeight()
    {
        // tools/fixtures/gen_lines.py: SciPy's last Ward merge joins x to the cluster of all other points.
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("lines", "ward_join.json")));
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var members = item.GetProperty("cluster").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
            var x = item.GetProperty("x").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var dimension = x.Length;
            var clusters = LineCatalogBuilder.FromCut(members.SelectMany(m => m).ToArray(), members.Length, dimension, new int[members.Length], ["all"]);
            // The rule's centroid is rounded to float; compare with the double-precision centroid's increase at float-level accuracy.
            var decision = new WardAssignmentRule(new LineCatalog("t", 1, Source, null, Wide, dimension, clusters)).Assign(x);
            var height = item.GetProperty("lastHeight").GetDouble();
            Assert.Equal(members.Length + 1, item.GetProperty("lastSize").GetInt32());
            Assert.Equal(height * height / 2, decision.WardIncreases[0], height * height * 1e-6);

            // And our own SciPy-exact Ward agrees on the same points.
            var points = members.Append(x).SelectMany(m => m).ToArray();
            var tree = HierarchicalClustering.Linkage(points, members.Length + 1, dimension, LinkageMethod.Ward);
            Assert.Equal(height, tree.LinkageMatrix[^1].Height, height * 1e-9);
        }
    }

    [Fact]
    public void FarBeyondTheNearestClustersRadiusIsNovel()
    {
        var settings = new AssignmentRuleSettings(0.1, 2);
        var rule = new WardAssignmentRule(Catalog(settings, Cluster("crack", 10, 0.5, 0, 0), Cluster("stain", 10, 1.0, 10, 0)));
        var inside = rule.Assign([0.9f, 0]);
        Assert.Equal(AssignmentOutcome.Assigned, inside.Outcome);
        Assert.Equal("crack", inside.AssignedName);
        Assert.Equal(1.0, inside.AcceptanceRadius, 1e-12);
        Assert.Equal(0.9, inside.NoveltyScore, 1e-6);

        var outside = rule.Assign([0, 1.2f]);
        Assert.Equal(AssignmentOutcome.Novel, outside.Outcome);
        Assert.Null(outside.AssignedName);
        Assert.Equal("crack", outside.NearestName);
        Assert.Equal(1.2, outside.NoveltyScore, 1e-6);

        // The radius is the nearest cluster's own: 1.2 from stain is inside its radius of 2.
        Assert.Equal(AssignmentOutcome.Assigned, rule.Assign([10, 1.2f]).Outcome);
    }

    [Fact]
    public void ACloseSecondClusterMakesTheDecisionAmbiguous()
    {
        var settings = new AssignmentRuleSettings(0.2, 100);
        var rule = new WardAssignmentRule(Catalog(settings, Cluster("a", 4, 1, -1, 0), Cluster("b", 4, 1, 1, 0)));
        var middle = rule.Assign([0.05f, 0]);
        Assert.Equal(AssignmentOutcome.Ambiguous, middle.Outcome);
        Assert.Equal("b", middle.AssignedName);
        // (1.05^2 - 0.95^2) / 1.05^2 = 0.1814 < 0.2
        Assert.Equal((1.05 * 1.05 - 0.95 * 0.95) / (1.05 * 1.05), middle.Margin, 1e-6);
        var clear = rule.Assign([0.5f, 0]);
        Assert.Equal(AssignmentOutcome.Assigned, clear.Outcome);
        Assert.True(clear.Margin >= 0.2);
    }

    [Fact]
    public void TiesGoToTheLowerClusterIndex()
    {
        var rule = new WardAssignmentRule(Catalog(Wide, Cluster("a", 3, 1, -1, 0), Cluster("b", 3, 1, 1, 0)));
        var decision = rule.Assign([0, 0]);
        Assert.Equal(0, decision.Nearest);
        Assert.Equal(0, decision.Margin);
    }

    [Fact]
    public void ASingletonUsesThePooledSpread()
    {
        // Pooled over the clusters of two or more: sqrt((4 * 1^2 + 12 * 2^2) / 16) = sqrt(52 / 16).
        var catalog = Catalog(new AssignmentRuleSettings(0.1, 2), Cluster("a", 4, 1, 0, 0), Cluster("b", 12, 2, 50, 0), Cluster("one", 1, 0, 100, 0));
        Assert.Equal(Math.Sqrt(52.0 / 16), catalog.PooledSpread, 1e-12);
        Assert.Equal(2 * Math.Sqrt(52.0 / 16), catalog.AcceptanceRadius(2), 1e-12);
        Assert.Equal(2.0, catalog.AcceptanceRadius(0), 1e-12);
        var decision = new WardAssignmentRule(catalog).Assign([100, 3]);
        Assert.Equal("one", decision.NearestName);
        Assert.Equal(AssignmentOutcome.Assigned, decision.Outcome);
    }

    [Fact]
    public void OneClusterHasFullMargin()
    {
        var decision = new WardAssignmentRule(Catalog(Wide, Cluster("only", 5, 1, 0, 0))).Assign([1, 1]);
        Assert.Equal(1.0, decision.Margin);
        Assert.Equal(AssignmentOutcome.Assigned, decision.Outcome);
        Assert.Equal(3, decision.CatalogVersion);
    }

    [Fact]
    public void BadEmbeddingsAndCatalogsAreRefusedWithTheirReason()
    {
        var rule = new WardAssignmentRule(Catalog(Wide, Cluster("a", 2, 1, 0, 0)));
        Assert.Contains("has 3 values", Assert.Throws<InvalidClusteringInputException>(() => rule.Assign([1, 2, 3])).Message);
        Assert.Contains("NaN", Assert.Throws<InvalidClusteringInputException>(() => rule.Assign([float.NaN, 0])).Message);
        Assert.Throws<InvalidClusteringInputException>(() => new WardAssignmentRule(new LineCatalog("x", 1, Source, null, Wide, 2, [])));
        Assert.Throws<InvalidClusteringInputException>(() => new WardAssignmentRule(new LineCatalog("x", 1, Source, null, Wide, 3, [Cluster("a", 2, 1, 0, 0)])));
        var margin = Assert.Throws<InvalidClusteringInputException>(() => new WardAssignmentRule(Catalog(new AssignmentRuleSettings(1, 2), Cluster("a", 2, 1, 0, 0))));
        Assert.Contains("the margin is 1; it must be a share in [0, 1)", margin.Message);
        Assert.DoesNotContain('\n', margin.Message);
        var factor = Assert.Throws<InvalidClusteringInputException>(() => new WardAssignmentRule(Catalog(new AssignmentRuleSettings(0.1, 0), Cluster("a", 2, 1, 0, 0))));
        Assert.Contains("the acceptance factor is 0; it must be a positive finite number", factor.Message);
    }
}
