using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Detection;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The anomaly-score histogram: equal-width bins over the score range, good and other images apart, the threshold line.</summary>
public sealed class AnomalyScoreHistogramTests
{
    [Fact]
    public void Bins_cover_the_range_and_split_good_from_the_rest()
    {
        double[] scores = [0.0, 1.0, 2.0, 4.0];
        var (good, other, min, max) = ScoreHistogram.Of(scores, [true, true, false, false]);

        Assert.Equal((0.0, 4.0), (min, max));
        Assert.Equal(2, good.Sum());
        Assert.Equal(2, other.Sum());
        // Width 0.1: 1.0 falls in bin 10, 2.0 in bin 20; the largest score stays in the last bin.
        Assert.Equal(1, good[0]);
        Assert.Equal(1, good[10]);
        Assert.Equal(1, other[20]);
        Assert.Equal(1, other[ScoreHistogram.BinCount - 1]);
    }

    [Fact]
    public void The_threshold_is_drawn_only_when_there_is_one()
    {
        double[] scores = [1.0, 1.5, 3.0];
        Assert.Contains("id=\"score-threshold\"", Render(scores, null, 2.0), StringComparison.Ordinal);
        Assert.Contains("threshold 2", Render(scores, null, 2.0), StringComparison.Ordinal);
        Assert.DoesNotContain("score-threshold", Render(scores, null, null), StringComparison.Ordinal);
        Assert.Contains("bar-images", Render(scores, null, null), StringComparison.Ordinal);
        Assert.Contains("bar-good", Render(scores, [true, false, false], null), StringComparison.Ordinal);
    }

    // The page's path: bins counted once (ScoreHistogram, as a report digest keeps them), then drawn.
    private static string Render(double[] scores, bool[]? isGood, double? threshold)
    {
        var (good, other, min, max) = ScoreHistogram.Of(scores, isGood);
        return AnomalyScoreHistogramSvg.Render(good, other, min, max, labelled: isGood is not null, threshold);
    }
}
