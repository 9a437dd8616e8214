using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// A detection threshold on image anomaly scores set without any defect label (METHOD section 7b): each normal image is
/// scored against the normal bank of the <i>other</i> normal images (leave-one-out, so it is not its own nearest
/// neighbour), and the threshold is a quantile of those scores. An image scoring above it is called defective; by
/// construction about (1 - quantile) of normal images would be.
/// </summary>
public static class DetectionThreshold
{
    /// <summary>
    /// The quantile used unless a caller says otherwise: 0.99, so about 1 % of normal images would be called defective (the
    /// usual PatchCore calibration; not tuned on any of our datasets).
    /// </summary>
    public const double DefaultQuantile = 0.99;

    /// <summary>
    /// Leave-one-out image anomaly scores of the normal images: for normal image n, the largest over its patches of the
    /// distance to the nearest patch of any other normal image. O(N_n^2 M^2 T) flops, O(M) extra memory per image.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 normal images, or bags that differ in dimension or are not finite.</exception>
    public static double[] LeaveOneOutNormalScores(IReadOnlyList<PatchBag> normalBags, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(normalBags);
        if (normalBags.Count < 2)
        {
            throw new InvalidClusteringInputException(
                $"a leave-one-out threshold needs at least 2 normal images; there are {normalBags.Count}.", nameof(normalBags));
        }
        ScoringInput.CheckBags(normalBags, normalBags[0].Dimension, nameof(normalBags));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        var scores = new double[normalBags.Count];
        for (var n = 0; n < normalBags.Count; n++)
        {
            scores[n] = LeaveOneOutScore(normalBags, n, maxDegreeOfParallelism);
        }
        return scores;
    }

    /// <summary>The leave-one-out image score of normal image <paramref name="index"/> (see <see cref="LeaveOneOutNormalScores"/>). O(N_n M^2 T).</summary>
    public static double LeaveOneOutScore(IReadOnlyList<PatchBag> normalBags, int index, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(normalBags);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, normalBags.Count);
        var query = normalBags[index];
        ScoringInput.CheckBag(query, nameof(normalBags));
        ScoringInput.CheckShapes(normalBags, query.Dimension, nameof(normalBags));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        var nearest = new double[query.PatchCount];
        nearest.AsSpan().Fill(double.PositiveInfinity);
        var distances = new double[query.PatchCount];
        // One runner with the query packed once for all the other bags (the per-bag entry point would pack it N_n times).
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        runner.SetQuery(query);
        for (var j = 0; j < normalBags.Count; j++)
        {
            if (j == index)
            {
                continue;
            }
            runner.Nearest(normalBags[j], distances);
            for (var k = 0; k < nearest.Length; k++)
            {
                nearest[k] = Math.Min(nearest[k], distances[k]);
            }
        }
        return ImageAnomalyScore.FromPatchScores(nearest);
    }

    /// <summary>
    /// The leave-one-out image score of normal image <paramref name="index"/> when the job's bank is the coreset
    /// <paramref name="coreset"/> of the normal images: its patches against the kept patches of the other images
    /// (<see cref="NormalCoreset.ToBankWithout"/>). O(C T + M C T).
    /// </summary>
    public static double LeaveOneOutScore(NormalCoreset coreset, PatchBag query, int index, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(coreset);
        var bank = coreset.ToBankWithout(index);
        return ImageAnomalyScore.FromPatchScores(SemiSupervisedPatchScores.Compute(query, bank, maxDegreeOfParallelism));
    }

    /// <summary>
    /// The <paramref name="quantile"/> of <paramref name="normalScores"/> with linear interpolation between order
    /// statistics (numpy's default <c>np.quantile(..., method="linear")</c>). O(n log n).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">No scores, a non-finite score, or a quantile outside [0, 1].</exception>
    public static double FromNormalScores(ReadOnlySpan<double> normalScores, double quantile = DefaultQuantile)
    {
        if (normalScores.IsEmpty)
        {
            throw new InvalidClusteringInputException("a detection threshold needs the scores of at least one normal image.", nameof(normalScores));
        }
        if (double.IsNaN(quantile) || quantile < 0 || quantile > 1)
        {
            throw new InvalidClusteringInputException($"the threshold quantile is {quantile}; it must be between 0 and 1.", nameof(quantile));
        }
        Guard.Finite(normalScores, "normal image scores");
        var sorted = normalScores.ToArray();
        Array.Sort(sorted);
        var position = quantile * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
