using AnomalyClustering.Reports.Detection;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The anomaly-score histogram: equal-width bins over the score range, good and other images apart, the threshold line.</summary>
public sealed class AnomalyScoreHistogramTests
{
    [Fact]
    public void Bins_cover_the_range_and_split_good_from_the_rest()
    {
        double[] scores = [0.0, 1.0, 2.0, 4.0];
        var (good, other, min, max) = AnomalyScoreHistogramSvg.Bins(scores, [true, true, false, false]);

        Assert.Equal((0.0, 4.0), (min, max));
        Assert.Equal(2, good.Sum());
        Assert.Equal(2, other.Sum());
        // Width 0.1: 1.0 falls in bin 10, 2.0 in bin 20; the largest score stays in the last bin.
        Assert.Equal(1, good[0]);
        Assert.Equal(1, good[10]);
        Assert.Equal(1, other[20]);
        Assert.Equal(1, other[AnomalyScoreHistogramSvg.BinCount - 1]);
    }

    [Fact]
    public void The_threshold_is_drawn_only_when_there_is_one()
    {
        double[] scores = [1.0, 1.5, 3.0];
        Assert.Contains("id=\"score-threshold\"", AnomalyScoreHistogramSvg.Render(scores, null, 2.0), StringComparison.Ordinal);
        Assert.Contains("threshold 2", AnomalyScoreHistogramSvg.Render(scores, null, 2.0), StringComparison.Ordinal);
        Assert.DoesNotContain("score-threshold", AnomalyScoreHistogramSvg.Render(scores, null, null), StringComparison.Ordinal);
        Assert.Contains("bar-images", AnomalyScoreHistogramSvg.Render(scores, null, null), StringComparison.Ordinal);
        Assert.Contains("bar-good", AnomalyScoreHistogramSvg.Render(scores, [true, false, false], null), StringComparison.Ordinal);
    }
}
