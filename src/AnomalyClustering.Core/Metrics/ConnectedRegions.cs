using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// The connected defect regions of a binary mask, 8-connected (SciPy's <c>ndimage.label</c> with a 3 x 3 structure of
/// ones, as the MVTec AD evaluation code labels its ground truth): the regions PRO averages over.
/// </summary>
public static class ConnectedRegions
{
    /// <summary>
    /// Writes each pixel's region (1..count in raster order of each region's first pixel, 0 outside every region) into
    /// <paramref name="labels"/> and returns the number of regions. O(height x width) time, an explicit stack (no recursion).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The spans do not hold height x width pixels.</exception>
    public static int Label(ReadOnlySpan<bool> mask, int height, int width, Span<int> labels)
    {
        Guard.AtLeast(height, 1, "mask height");
        Guard.AtLeast(width, 1, "mask width");
        Guard.Length(mask.Length, height * width, "mask");
        Guard.Length(labels.Length, height * width, "region labels");
        labels.Clear();
        var count = 0;
        var stack = new Stack<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || labels[start] != 0)
            {
                continue;
            }
            count++;
            labels[start] = count;
            stack.Push(start);
            while (stack.TryPop(out var pixel))
            {
                var (y, x) = Math.DivRem(pixel, width);
                for (var ny = Math.Max(0, y - 1); ny <= Math.Min(height - 1, y + 1); ny++)
                {
                    for (var nx = Math.Max(0, x - 1); nx <= Math.Min(width - 1, x + 1); nx++)
                    {
                        var neighbour = ny * width + nx;
                        if (mask[neighbour] && labels[neighbour] == 0)
                        {
                            labels[neighbour] = count;
                            stack.Push(neighbour);
                        }
                    }
                }
            }
        }
        return count;
    }
}
