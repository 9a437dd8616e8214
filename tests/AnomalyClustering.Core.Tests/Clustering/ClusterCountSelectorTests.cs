using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// The automatic number of clusters: every criterion's curve over K = 2..20 equals scikit-learn's scores of SciPy's
/// maxclust cuts of SciPy's Ward tree (tools/fixtures/gen_cluster_count.py), and the chosen K is the curve's maximum.
/// </summary>
public class ClusterCountSelectorTests
{
    public static TheoryData<string, ClusterCountCriterion> Cases()
    {
        var cases = new TheoryData<string, ClusterCountCriterion>();
        foreach (var name in ClusterCountFixtures.SelectionNames())
        {
            foreach (var criterion in Enum.GetValues<ClusterCountCriterion>())
            {
                cases.Add(name, criterion);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CurveAndChoiceEqualScikitLearnOnScipysTree(string name, ClusterCountCriterion criterion)
    {
        var (tree, points, dimension, fixture) = Load(name);
        var key = JsonNamingPolicy.CamelCase.ConvertName(criterion.ToString());

        var choice = ClusterCountSelector.Select(tree, points, dimension, new ClusterCountSearch { Criterion = criterion });

        var expected = fixture.GetProperty("curve").EnumerateArray().ToArray();
        Assert.Equal(expected.Select(row => row.GetProperty("k").GetInt32()), choice.Curve.Select(score => score.ClusterCount));
        for (var i = 0; i < expected.Length; i++)
        {
            var value = expected[i].GetProperty(key).GetDouble();
            Assert.InRange(Math.Abs(choice.Curve[i].Value - value), 0, 1e-9 * Math.Max(1, Math.Abs(value)));
        }
        Assert.Equal(fixture.GetProperty("chosen").GetProperty(key).GetInt32(), choice.ClusterCount);
        Assert.Equal(criterion, choice.Criterion);
    }

    [Fact]
    public void ASampledSilhouetteIsSeededAndCloseToTheFullOne()
    {
        var (tree, points, dimension, _) = Load("mixture_k5_separated");
        var full = ClusterCountSelector.Evaluate(tree, points, dimension, new ClusterCountSearch());
        var sampled = ClusterCountSelector.Evaluate(tree, points, dimension, new ClusterCountSearch { SilhouetteSampleSize = 150, Seed = 3 });
        var again = ClusterCountSelector.Evaluate(tree, points, dimension, new ClusterCountSearch { SilhouetteSampleSize = 150, Seed = 3 });

        Assert.Equal(sampled, again);
        Assert.NotEqual(full, sampled);
        // Half of 300 well-separated points: the mean silhouette moves by a few hundredths at most.
        for (var i = 0; i < full.Count; i++)
        {
            Assert.InRange(Math.Abs(full[i].Value - sampled[i].Value), 0, 0.05);
        }
    }

    [Fact]
    public void TheRangeIsClippedToNMinusOneAndRefusedBelowThreePoints()
    {
        float[] points = [0, 1, 10, 11];
        var tree = HierarchicalClustering.Linkage(points, 4, 1, LinkageMethod.Ward);
        var choice = ClusterCountSelector.Select(tree, points, 1, new ClusterCountSearch());
        Assert.Equal([2, 3], choice.Curve.Select(score => score.ClusterCount));
        Assert.Equal(2, choice.ClusterCount);

        var pair = HierarchicalClustering.Linkage(points.AsSpan(0, 2), 2, 1, LinkageMethod.Ward);
        Assert.Throws<InvalidClusteringInputException>(() => ClusterCountSelector.Select(pair, points.AsSpan(0, 2), 1, new ClusterCountSearch()));
        Assert.Throws<InvalidClusteringInputException>(() => ClusterCountSelector.Select(tree, points, 1, new ClusterCountSearch { MinimumClusterCount = 4 }));
        Assert.Throws<InvalidClusteringInputException>(() => ClusterCountSelector.Select(tree, points, 1, new ClusterCountSearch { MinimumClusterCount = 1 }));
    }

    private static (MergeTree Tree, float[] Points, int Dimension, JsonElement Fixture) Load(string name)
    {
        var fixture = ClusterCountFixtures.Selection(name);
        var rows = fixture.GetProperty("linkage").EnumerateArray().ToArray();
        var linkage = new double[rows.Length, 4];
        for (var r = 0; r < rows.Length; r++)
        {
            for (var c = 0; c < 4; c++)
            {
                linkage[r, c] = rows[r][c].GetDouble();
            }
        }
        var points = ClusterCountFixtures.Points(fixture);
        return (MergeTree.FromLinkageArray(linkage), points, fixture.GetProperty("dimension").GetInt32(), fixture);
    }
}
