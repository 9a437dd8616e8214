using System.Text.Json;
using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>NMI, ARI and Hungarian F1 against scikit-learn 1.2.1 / SciPy 1.10.1 on every fixture labeling.</summary>
public class ScikitLearnAgreementTests
{
    public static TheoryData<string> Labelings => MetricsFixtures.LabelingNames();

    public static TheoryData<string> LargeLabelings => MetricsFixtures.LargeNames();

    [Theory]
    [MemberData(nameof(Labelings))]
    public void ScoresEqualScikitLearn(string name)
    {
        var fixture = MetricsFixtures.Labeling(name);
        var scores = Evaluate(fixture);

        Assert.InRange(Math.Abs(scores.NormalizedMutualInformation - fixture.GetProperty("nmi").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.InRange(Math.Abs(scores.AdjustedRandIndex - fixture.GetProperty("ari").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.InRange(Math.Abs(scores.HungarianF1 - fixture.GetProperty("f1").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.Equal(fixture.GetProperty("matched").GetInt64(), scores.Matching.MatchedCount);
    }

    [Theory]
    [MemberData(nameof(Labelings))]
    public void MatchingIsScipysMatching(string name)
    {
        var fixture = MetricsFixtures.Labeling(name);
        var scores = Evaluate(fixture);
        var expected = fixture.GetProperty("pairs").EnumerateArray()
            .Select(p => (Class: p[0].ToString(), Cluster: p[1].ToString(), Count: p[2].GetInt32()))
            .ToArray();
        var table = scores.Contingency;
        var actual = scores.Matching.Pairs
            .Select(p => (Class: table.ClassEncoding.Names[p.ClassIndex], Cluster: table.ClusterEncoding.Names[p.ClusterIndex], p.Count))
            .ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EveryFixtureIsWithinToleranceAndTheWorstErrorsAreReported()
    {
        double worstNmi = 0, worstAri = 0, worstF1 = 0;
        var count = 0;
        var inexact = new List<string>();
        foreach (var fixture in MetricsFixtures.AllLabelings())
        {
            var scores = Evaluate(fixture);
            if (scores.NormalizedMutualInformation != fixture.GetProperty("nmi").GetDouble()
                || scores.AdjustedRandIndex != fixture.GetProperty("ari").GetDouble())
            {
                inexact.Add(fixture.GetProperty("name").GetString()!);
            }
            worstNmi = Math.Max(worstNmi, Math.Abs(scores.NormalizedMutualInformation - fixture.GetProperty("nmi").GetDouble()));
            worstAri = Math.Max(worstAri, Math.Abs(scores.AdjustedRandIndex - fixture.GetProperty("ari").GetDouble()));
            worstF1 = Math.Max(worstF1, Math.Abs(scores.HungarianF1 - fixture.GetProperty("f1").GetDouble()));
            count++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{count} labelings; max |ours - sklearn|: NMI {worstNmi:G3}, ARI {worstAri:G3}, F1 {worstF1:G3}");
        TestContext.Current.TestOutputHelper?.WriteLine($"NMI or ARI not bit-identical: {(inexact.Count == 0 ? "none" : string.Join(", ", inexact))}");
        Assert.True(count > 50);
        Assert.InRange(Math.Max(worstNmi, Math.Max(worstAri, worstF1)), 0, MetricsFixtures.Tolerance);
    }

    [Theory]
    [MemberData(nameof(LargeLabelings))]
    public void LargeLabelingsEqualScikitLearnWithoutOverflow(string name)
    {
        var fixture = MetricsFixtures.Large(name);
        var n = fixture.GetProperty("n").GetInt32();
        var trueLabels = new int[n];
        var predicted = new int[n];
        for (long i = 0; i < n; i++)
        {
            // The formulas of tools/fixtures/gen_metrics.py formula_labelings().
            switch (name)
            {
                case "large_independent":
                    trueLabels[i] = (int)((7919 * i + 3) % 13);
                    predicted[i] = (int)((i * i + 3 * i) % 17);
                    break;
                case "large_agreeing":
                    trueLabels[i] = (int)((7919 * i + 3) % 13);
                    predicted[i] = (5 * trueLabels[i] + (i % 7 == 0 ? 1 : 0)) % 13;
                    break;
                case "large_many_clusters":
                    trueLabels[i] = (int)(i % 11);
                    predicted[i] = (int)(i % 100003);
                    break;
                default:
                    throw new InvalidOperationException("unknown formula case " + name);
            }
        }
        var scores = ClusteringMetrics.Evaluate(trueLabels, predicted);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{name}: |ours - sklearn| NMI {Math.Abs(scores.NormalizedMutualInformation - fixture.GetProperty("nmi").GetDouble()):G3}, " +
            $"ARI {Math.Abs(scores.AdjustedRandIndex - fixture.GetProperty("ari").GetDouble()):G3}, F1 {Math.Abs(scores.HungarianF1 - fixture.GetProperty("f1").GetDouble()):G3}");
        Assert.InRange(Math.Abs(scores.NormalizedMutualInformation - fixture.GetProperty("nmi").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.InRange(Math.Abs(scores.AdjustedRandIndex - fixture.GetProperty("ari").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.InRange(Math.Abs(scores.HungarianF1 - fixture.GetProperty("f1").GetDouble()), 0, MetricsFixtures.Tolerance);
        Assert.Equal(fixture.GetProperty("matched").GetInt64(), scores.Matching.MatchedCount);
    }

    [Fact]
    public void SingleScoreFunctionsAgreeWithEvaluate()
    {
        var fixture = MetricsFixtures.Labeling("random_n300_v1");
        var trueLabels = MetricsFixtures.Ints(fixture.GetProperty("true"));
        var predicted = MetricsFixtures.Ints(fixture.GetProperty("pred"));
        var scores = ClusteringMetrics.Evaluate(trueLabels, predicted);
        Assert.Equal(scores.NormalizedMutualInformation, ClusteringMetrics.NormalizedMutualInformation(trueLabels, predicted));
        Assert.Equal(scores.AdjustedRandIndex, ClusteringMetrics.AdjustedRandIndex(trueLabels, predicted));
        Assert.Equal(scores.HungarianF1, ClusteringMetrics.HungarianF1(trueLabels, predicted));
    }

    [Fact]
    public void ScoresAreSymmetricInTheTwoLabelings()
    {
        // NMI and ARI are symmetric by definition; the maximum matching is too (transposed table).
        var fixture = MetricsFixtures.Labeling("random_n600_v3");
        var a = MetricsFixtures.Ints(fixture.GetProperty("true"));
        var b = MetricsFixtures.Ints(fixture.GetProperty("pred"));
        var forward = ClusteringMetrics.Evaluate(a, b);
        var backward = ClusteringMetrics.Evaluate(b, a);
        Assert.Equal(forward.NormalizedMutualInformation, backward.NormalizedMutualInformation, 1e-12);
        Assert.Equal(forward.AdjustedRandIndex, backward.AdjustedRandIndex, 1e-12);
        Assert.Equal(forward.Matching.MatchedCount, backward.Matching.MatchedCount);
    }

    private static ClusteringScores Evaluate(JsonElement fixture)
    {
        var trueJson = fixture.GetProperty("true");
        var predJson = fixture.GetProperty("pred");
        if (trueJson[0].ValueKind == JsonValueKind.String)
        {
            return ClusteringMetrics.Evaluate(ContingencyTable.Create(MetricsFixtures.Strings(trueJson), MetricsFixtures.Strings(predJson)));
        }
        return ClusteringMetrics.Evaluate(MetricsFixtures.Ints(trueJson), MetricsFixtures.Ints(predJson));
    }
}
