using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Jobs;

/// <summary>How well the image anomaly scores separate good images from defective ones (METHOD section 7b).</summary>
/// <param name="ImageAuroc">Area under the ROC curve, defective images positive (scikit-learn's roc_auc_score).</param>
/// <param name="GoodImages">Images labelled <c>good</c>.</param>
/// <param name="DefectiveImages">Images with any other label.</param>
/// <param name="GoodAboveThreshold">Good images scoring above the detection threshold (false alarms); null without a threshold.</param>
/// <param name="DefectiveAboveThreshold">Defective images scoring above it (detected); null without a threshold.</param>
public sealed record DetectionScores(double ImageAuroc, int GoodImages, int DefectiveImages, int? GoodAboveThreshold = null, int? DefectiveAboveThreshold = null);

/// <summary>
/// Attaches image anomaly scores to a clustering result and evaluates them against the labels: the label <c>good</c> is the
/// negative class (the MVTec convention), every other label a defect.
/// </summary>
public static class ImageDetection
{
    /// <summary>The label of defect-free images in MVTec-layout datasets.</summary>
    public const string GoodLabel = "good";

    /// <summary>
    /// <paramref name="result"/> with <paramref name="scores"/> (one per image, in the result's order; null leaves it
    /// unchanged) on its images, the label-free <paramref name="threshold"/> (null: none) and
    /// <see cref="ClusteringResult.Detection"/> evaluated. O(N log N).
    /// </summary>
    /// <exception cref="ArgumentException">The number of scores is not the number of images.</exception>
    public static ClusteringResult WithAnomalyScores(ClusteringResult result, IReadOnlyList<double>? scores, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (scores is null)
        {
            return result;
        }
        if (scores.Count != result.Images.Count)
        {
            throw new ArgumentException($"{scores.Count} anomaly scores for {result.Images.Count} images.", nameof(scores));
        }
        return WithDetection(result with { Images = result.Images.Select((image, i) => image with { AnomalyScore = scores[i] }).ToArray() }, threshold);
    }

    /// <summary>
    /// <paramref name="result"/>, whose images already carry their anomaly scores, with the detection threshold and the
    /// detection figures over them (<see cref="Evaluate"/>). O(N log N).
    /// </summary>
    public static ClusteringResult WithDetection(ClusteringResult result, double? threshold)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result with { AnomalyThreshold = threshold, Detection = Evaluate(result.Images, threshold) };
    }

    /// <summary>
    /// Image AUROC of the images' anomaly scores, <c>good</c> against every other label, and with a
    /// <paramref name="threshold"/> how many of each are above it; null unless every image has a score and a label and both
    /// kinds are present. O(N log N).
    /// </summary>
    public static DetectionScores? Evaluate(IReadOnlyList<ClusteredImage> images, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0 || images.Any(image => image.AnomalyScore is null || image.Label is null))
        {
            return null;
        }
        var defective = images.Select(image => !string.Equals(image.Label, GoodLabel, StringComparison.Ordinal)).ToArray();
        var defects = defective.Count(d => d);
        if (defects == 0 || defects == images.Count)
        {
            return null;
        }
        var auroc = ReceiverOperatingCharacteristic.AreaUnderCurve(images.Select(image => image.AnomalyScore!.Value).ToArray(), defective);
        int? AboveThreshold(bool defect) => threshold is { } t
            ? images.Where((image, i) => defective[i] == defect && image.AnomalyScore!.Value > t).Count()
            : null;
        return new DetectionScores(auroc, images.Count - defects, defects, AboveThreshold(defect: false), AboveThreshold(defect: true));
    }
}
