using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>Pixel-level detection quality of anomaly maps against ground-truth masks.</summary>
/// <param name="PixelAuroc">scikit-learn's <c>roc_auc_score</c> over every pixel of every image, defect pixels positive.</param>
/// <param name="Pro">
/// The area under the per-region overlap (PRO) curve up to <paramref name="ProIntegrationLimit"/> false-positive rate,
/// divided by that limit (MVTec AD's AU-PRO; 1 is perfect).
/// </param>
/// <param name="ProIntegrationLimit">The false-positive rate the PRO curve is integrated up to (MVTec AD's 0.3).</param>
/// <param name="Images">Images whose maps were pooled.</param>
/// <param name="Pixels">Pixels pooled.</param>
/// <param name="DefectPixels">Pixels inside a defect region.</param>
/// <param name="Regions">Connected defect regions (8-connected) over all images.</param>
public sealed record PixelDetectionScores(double PixelAuroc, double Pro, double ProIntegrationLimit, int Images, long Pixels, long DefectPixels, int Regions);

/// <summary>
/// Pools the pixels of anomaly maps with their ground-truth masks, image by image, and computes pixel AUROC and PRO from
/// one descending sort of all pixels.
/// </summary>
/// <remarks>
/// PRO follows the MVTec AD evaluation code (<c>compute_pro</c> and <c>trapezoid</c> of mvtec_ad_evaluation): each mask's
/// 8-connected regions are the ground-truth regions; at every distinct score threshold the false-positive rate is the
/// share of defect-free pixels (of all images) at or above it and the PRO the mean over all regions of the share of the
/// region's pixels at or above it; the curve, from (0, 0) to (1, 1) with ties collapsed, is integrated by the trapezoidal
/// rule up to the limit (the last segment cut by linear interpolation) and divided by the limit. The false-positive rates
/// are kept in double where that code rounds them to float32. anomalib's AUPRO is the same curve computed differently.
/// Memory: 8 bytes per pooled pixel (a float score and an int region), no per-threshold array; time O(P log P) for P pixels.
/// </remarks>
public sealed class PixelDetectionMetrics
{
    /// <summary>MVTec AD's integration limit of the PRO curve.</summary>
    public const double DefaultProIntegrationLimit = 0.3;

    private readonly List<int> _regionSizes = [0]; // index 0: outside every region
    private float[] _scores;
    private int[] _regions;
    private long _count;
    private long _defectPixels;
    private int _images;

    /// <summary>An empty pool with room for <paramref name="pixelCapacity"/> pixels (it grows beyond).</summary>
    public PixelDetectionMetrics(long pixelCapacity = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixelCapacity);
        _scores = new float[Math.Max(1, pixelCapacity)];
        _regions = new int[_scores.Length];
    }

    /// <summary>Pixels pooled so far.</summary>
    public long Pixels => _count;

    /// <summary>
    /// Adds one image: its <paramref name="height"/> x <paramref name="width"/> anomaly map and its mask (true: defect pixel),
    /// both row-major. A defect-free image has an all-false mask. O(height x width).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Sizes do not match or a score is not finite.</exception>
    public void Add(ReadOnlySpan<float> map, ReadOnlySpan<bool> mask, int height, int width)
    {
        Guard.AtLeast(height, 1, "map height");
        Guard.AtLeast(width, 1, "map width");
        Guard.Length(map.Length, height * width, "anomaly map");
        Guard.Length(mask.Length, height * width, "mask");
        Guard.Finite(map, "anomaly map");
        var pixels = map.Length;
        if (_count + pixels > Array.MaxLength)
        {
            throw new InvalidClusteringInputException($"pixel metrics pool at most {Array.MaxLength} pixels; this image would make {_count + pixels}.", nameof(map));
        }
        EnsureCapacity(_count + pixels);
        var labels = _regions.AsSpan((int)_count, pixels);
        var regions = ConnectedRegions.Label(mask, height, width, labels);
        var firstRegion = _regionSizes.Count - 1;
        for (var r = 0; r < regions; r++)
        {
            _regionSizes.Add(0);
        }
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] != 0)
            {
                labels[i] += firstRegion;
                _regionSizes[labels[i]]++;
                _defectPixels++;
            }
        }
        map.CopyTo(_scores.AsSpan((int)_count, pixels));
        _count += pixels;
        _images++;
    }

    /// <summary>
    /// Pixel AUROC and PRO up to <paramref name="proIntegrationLimit"/> over the pixels added so far. O(P log P) (one sort, in place).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">No defect pixels or no defect-free pixels, or the limit is not in (0, 1].</exception>
    public PixelDetectionScores Compute(double proIntegrationLimit = DefaultProIntegrationLimit)
    {
        if (!(proIntegrationLimit > 0 && proIntegrationLimit <= 1))
        {
            throw new InvalidClusteringInputException($"the PRO integration limit must be in (0, 1]; got {proIntegrationLimit}.", nameof(proIntegrationLimit));
        }
        long positives = _defectPixels, negatives = _count - _defectPixels;
        if (positives == 0 || negatives == 0)
        {
            throw new InvalidClusteringInputException(
                $"pixel metrics need defect and defect-free pixels; there are {positives} defect and {negatives} defect-free pixels.", "masks");
        }
        var count = (int)_count;
        Array.Sort(_scores, _regions, 0, count);
        var regionCount = _regionSizes.Count - 1;
        var inverseSizes = _regionSizes.Select(size => size == 0 ? 0.0 : 1.0 / size).ToArray();

        // Walk the thresholds from the highest score down, one tie group at a time.
        long truePositives = 0, falsePositives = 0;
        long twiceArea = 0; // 2 x the ROC area x P x N, exact
        var overlapSum = 0.0; // sum over regions of (pixels above threshold / region size)
        var curve = new TrapezoidUpTo(proIntegrationLimit);
        for (var end = count; end > 0;)
        {
            var start = end - 1;
            while (start > 0 && _scores[start - 1] == _scores[end - 1])
            {
                start--;
            }
            long groupPositives = 0, groupNegatives = 0;
            for (var i = start; i < end; i++)
            {
                var region = _regions[i];
                if (region == 0)
                {
                    groupNegatives++;
                }
                else
                {
                    groupPositives++;
                    overlapSum += inverseSizes[region];
                }
            }
            // The ROC step of this group is a trapezoid: its negatives times the true positives before and half of its own.
            twiceArea += groupNegatives * (2 * truePositives + groupPositives);
            truePositives += groupPositives;
            falsePositives += groupNegatives;
            curve.Add(Math.Min(1.0, (double)falsePositives / negatives), Math.Min(1.0, overlapSum / regionCount));
            end = start;
        }
        curve.Add(1.0, 1.0);
        var auroc = twiceArea / (2.0 * positives * negatives);
        return new PixelDetectionScores(auroc, curve.Area / proIntegrationLimit, proIntegrationLimit, _images, _count, _defectPixels, regionCount);
    }

    private void EnsureCapacity(long needed)
    {
        if (needed <= _scores.Length)
        {
            return;
        }
        var capacity = (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _scores.Length));
        Array.Resize(ref _scores, capacity);
        Array.Resize(ref _regions, capacity);
    }

    /// <summary>
    /// The trapezoidal area under a curve given point by point with non-decreasing x, from (0, 0) up to x = limit, the
    /// segment crossing the limit cut at it by linear interpolation (MVTec AD's <c>trapezoid</c> with <c>x_max</c>).
    /// </summary>
    private sealed class TrapezoidUpTo(double limit)
    {
        private double _x;
        private double _y;
        private bool _done;

        public double Area { get; private set; }

        public void Add(double x, double y)
        {
            if (_done)
            {
                return;
            }
            if (x <= limit)
            {
                Area += 0.5 * (y + _y) * (x - _x);
                (_x, _y) = (x, y);
                return;
            }
            if (_x < limit)
            {
                var atLimit = _y + (y - _y) * (limit - _x) / (x - _x);
                Area += 0.5 * (atLimit + _y) * (limit - _x);
            }
            _done = true;
        }
    }
}
