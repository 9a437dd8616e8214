namespace AnomalyClustering.Jobs;

/// <summary>
/// Equal-width bins of image anomaly scores from the smallest to the largest, good images (label <c>good</c>) and the
/// others counted apart: what the report's histogram draws, computed once over every image (here or in the
/// <see cref="ReportDigest"/>). O(N + bins).
/// </summary>
public static class ScoreHistogram
{
    /// <summary>Number of bins.</summary>
    public const int BinCount = 40;

    /// <summary>Bin counts of <paramref name="scores"/> split by <paramref name="isGood"/> (null: one unlabelled series), and the range they cover.</summary>
    public static (int[] Good, int[] Other, double Min, double Max) Of(IReadOnlyList<double> scores, IReadOnlyList<bool>? isGood)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var good = new int[BinCount];
        var other = new int[BinCount];
        if (scores.Count == 0)
        {
            return (good, other, 0, 0);
        }
        var min = scores.Min();
        var max = scores.Max();
        var width = max > min ? (max - min) / BinCount : 1;
        for (var i = 0; i < scores.Count; i++)
        {
            var bin = Math.Clamp((int)((scores[i] - min) / width), 0, BinCount - 1);
            if (isGood is not null && isGood[i])
            {
                good[bin]++;
            }
            else
            {
                other[bin]++;
            }
        }
        return (good, other, min, max);
    }
}
