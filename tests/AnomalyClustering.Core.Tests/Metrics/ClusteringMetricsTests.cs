using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Hand-checkable values and input validation of the three scores.</summary>
public class ClusteringMetricsTests
{
    [Fact]
    public void RenamedPerfectClusteringScoresOne()
    {
        var scores = ClusteringMetrics.Evaluate(["scratch", "good", "scratch", "crack", "good"], [7, 3, 7, 1, 3]);
        Assert.Equal(1.0, scores.NormalizedMutualInformation, 1e-15);
        Assert.Equal(1.0, scores.AdjustedRandIndex);
        Assert.Equal(1.0, scores.HungarianF1);
        Assert.Equal(5, scores.Matching.MatchedCount);
    }

    [Fact]
    public void ExtraClustersLeaveTheirItemsUnmatched()
    {
        // Classes 0,0,0,1,1,1 against clusters a,a,b,c,c,d: two of four clusters are matched, 4 of 6 items.
        var table = new ContingencyTable([0, 0, 0, 1, 1, 1], [0, 0, 1, 2, 2, 3]);
        var matching = ClusterClassMatching.Create(table);
        Assert.Equal(4, matching.MatchedCount);
        Assert.Equal(4.0 / 6.0, ClusteringMetrics.HungarianF1(table));
        Assert.Equal(2, matching.Pairs.Count);
        Assert.Equal(-1, matching.ClassIndexOf(1));
        Assert.Equal(-1, matching.ClassIndexOf(3));
        Assert.Equal(0, matching.ClassIndexOf(0));
        Assert.Equal(1, matching.ClassIndexOf(2));
    }

    [Fact]
    public void HungarianMatchingBeatsGreedyMatching()
    {
        // Greedy would give cluster 0 to class 0 (count 5) and leave 1 + 1; the optimum is 4 + 4.
        int[] trueLabels = [.. Enumerable.Repeat(0, 9), .. Enumerable.Repeat(1, 5)];
        int[] predicted = [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1];
        var scores = ClusteringMetrics.Evaluate(trueLabels, predicted);
        Assert.Equal(8, scores.Matching.MatchedCount);
        Assert.Equal(8.0 / 14.0, scores.HungarianF1);
    }

    [Fact]
    public void AriOfTheScikitLearnDocumentationExamples()
    {
        Assert.Equal(-0.5, ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]));
        Assert.Equal(0.0, ClusteringMetrics.AdjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3]));
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]));
        Assert.Equal(4.0 / 7.0, ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]), 1e-15);
    }

    [Fact]
    public void NmiSpecialCases()
    {
        Assert.Equal(1.0, ClusteringMetrics.NormalizedMutualInformation([3, 3, 3], [8, 8, 8]));
        Assert.Equal(0.0, ClusteringMetrics.NormalizedMutualInformation([0, 0, 0, 0], [0, 1, 2, 3]));
        Assert.Equal(0.0, ClusteringMetrics.NormalizedMutualInformation([0, 1, 2, 3], [5, 5, 5, 5]));
        // A labeling independent of the classes carries no information.
        Assert.Equal(0.0, ClusteringMetrics.NormalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]));
    }

    [Fact]
    public void NmiOfTwoBalancedClassesWithOneMistake()
    {
        // Table [[2,0],[1,1]]: MI = sum p_ij log(p_ij / (p_i p_j)), H by definition; NMI = 2 MI / (H_true + H_pred).
        double p(double x) => x / 4;
        var mi = p(2) * Math.Log(p(2) / (p(2) * p(3))) + p(1) * Math.Log(p(1) / (p(2) * p(3))) + p(1) * Math.Log(p(1) / (p(2) * p(1)));
        var hTrue = -2 * p(2) * Math.Log(p(2));
        var hPred = -(p(3) * Math.Log(p(3)) + p(1) * Math.Log(p(1)));
        var nmi = ClusteringMetrics.NormalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1]);
        Assert.Equal(mi / ((hTrue + hPred) / 2), nmi, 1e-14);
    }

    [Fact]
    public void EveryScoreRejectsEmptyInput()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.NormalizedMutualInformation([], []));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.AdjustedRandIndex([], []));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.HungarianF1([], []));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.Evaluate(Array.Empty<int>(), []));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.Evaluate(Array.Empty<string>(), []));
    }

    [Fact]
    public void EveryScoreRejectsLengthMismatch()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.NormalizedMutualInformation([0, 1], [0]));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.AdjustedRandIndex([0], [0, 1]));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.HungarianF1([0, 1, 1], [0, 1]));
        var error = Assert.Throws<InvalidClusteringInputException>(() => ClusteringMetrics.Evaluate(["a", "b"], [0, 1, 2]));
        Assert.Contains("predicted labels", error.Message);
    }
}
