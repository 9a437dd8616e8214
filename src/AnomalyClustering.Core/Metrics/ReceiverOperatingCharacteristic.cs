using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// Area under the ROC curve of a score that should be higher for positives (defective images) than for negatives (good
/// ones): scikit-learn's <c>roc_auc_score</c> for binary labels. It is the probability that a random positive scores above
/// a random negative, ties counting one half (the Mann-Whitney U statistic over P N), which is exactly the trapezoidal
/// area under the ROC curve with tied scores collapsed into one point, as scikit-learn computes it.
/// </summary>
public static class ReceiverOperatingCharacteristic
{
    /// <summary>
    /// The AUROC of <paramref name="scores"/> against <paramref name="isPositive"/>. O(n log n) time (one sort), O(n) memory.
    /// </summary>
    /// <remarks>Only the ranks count, so an infinite score (e.g. a novelty score over a zero radius) ranks above every finite one.</remarks>
    /// <exception cref="InvalidClusteringInputException">Lengths differ, a score is NaN, or only one class is present (scikit-learn refuses that too).</exception>
    public static double AreaUnderCurve(ReadOnlySpan<double> scores, ReadOnlySpan<bool> isPositive)
    {
        Guard.Length(isPositive.Length, scores.Length, "positive flags");
        foreach (var score in scores)
        {
            if (double.IsNaN(score))
            {
                throw new InvalidClusteringInputException("AUROC needs a score for every image; a score is NaN.", nameof(scores));
            }
        }
        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        var sorted = scores.ToArray();
        Array.Sort(sorted, order);

        // Sum of the positives' ranks, a tie group sharing its average rank; in halves so the sum stays integral.
        long positives = 0;
        long twiceRankSum = 0;
        for (var start = 0; start < sorted.Length;)
        {
            var end = start + 1;
            while (end < sorted.Length && sorted[end] == sorted[start])
            {
                end++;
            }
            long groupPositives = 0;
            for (var r = start; r < end; r++)
            {
                groupPositives += isPositive[order[r]] ? 1 : 0;
            }
            // Ranks start + 1 .. end average to (start + 1 + end) / 2.
            twiceRankSum += groupPositives * (start + 1L + end);
            positives += groupPositives;
            start = end;
        }
        long negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new InvalidClusteringInputException(
                $"AUROC needs both positives and negatives; there are {positives} positive and {negatives} negative images.", nameof(isPositive));
        }
        // U = rank sum - P (P + 1) / 2, counted in halves.
        var twiceU = twiceRankSum - positives * (positives + 1);
        return twiceU / (2.0 * positives * negatives);
    }
}
