using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// An image's anomaly score (METHOD section 7b): the largest of its patch scores. Semi-supervised, that is the distance of
/// its most anomalous patch to the nearest normal patch (PatchCore's image score without reweighting); unsupervised, the
/// largest s_ik. The same patch scores give the patch weights, so the score costs nothing extra.
/// </summary>
public static class ImageAnomalyScore
{
    /// <summary>The largest patch score. O(M). Throws for no scores or a non-finite score.</summary>
    /// <exception cref="InvalidClusteringInputException">No scores, or a NaN or infinite score.</exception>
    public static double FromPatchScores(ReadOnlySpan<double> patchScores)
    {
        if (patchScores.IsEmpty)
        {
            throw new InvalidClusteringInputException("An image anomaly score needs at least one patch score.", nameof(patchScores));
        }
        Guard.Finite(patchScores, "patch scores");
        var max = patchScores[0];
        foreach (var score in patchScores)
        {
            max = Math.Max(max, score);
        }
        return max;
    }
}
