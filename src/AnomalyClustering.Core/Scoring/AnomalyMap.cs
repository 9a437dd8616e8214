using System.Buffers;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// An image's pixel anomaly map from its patch scores s_ik, as PatchCore and anomalib make it: the patch-score grid
/// upsampled bilinearly (PyTorch's <c>interpolate</c>, align_corners = false, see <see cref="BilinearAxis"/>) to the
/// map's size, then smoothed by a Gaussian (SciPy's <c>gaussian_filter</c>: mode "reflect", truncate 4, axis 0 then axis 1).
/// </summary>
/// <remarks>
/// The raw patch scores are used, not alpha: pixel metrics pool pixels across images, and alpha is normalised per image.
/// PatchCore smooths with sigma = 4 pixels of its 224 x 224 input; <see cref="InputPixelSigma"/> is that sigma, and the
/// caller carries it to the map's pixels (a map larger than the network input gets a proportionally wider kernel).
/// </remarks>
public static class AnomalyMap
{
    /// <summary>PatchCore's Gaussian sigma, in pixels of the backbone's input (224 x 224 there); not tuned on our data.</summary>
    public const double InputPixelSigma = 4.0;

    /// <summary>SciPy's default kernel radius in sigmas (<c>truncate</c>).</summary>
    public const double Truncate = 4.0;

    /// <summary>
    /// Writes the <paramref name="height"/> x <paramref name="width"/> map (row-major) of a
    /// <paramref name="gridHeight"/> x <paramref name="gridWidth"/> patch-score grid into <paramref name="destination"/>,
    /// smoothed with standard deviations <paramref name="sigmaY"/> and <paramref name="sigmaX"/> in map pixels (0: none).
    /// O(height x width x (1 + radius)) time; a scratch of height x width doubles from the shared pool.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Sizes do not match, a score is not finite, or a sigma is negative or not finite.</exception>
    public static void Render(
        ReadOnlySpan<float> patchScores, int gridHeight, int gridWidth, int height, int width, double sigmaY, double sigmaX, Span<float> destination)
    {
        Guard.AtLeast(gridHeight, 1, "patch grid height");
        Guard.AtLeast(gridWidth, 1, "patch grid width");
        Guard.AtLeast(height, 1, "map height");
        Guard.AtLeast(width, 1, "map width");
        Guard.Length(patchScores.Length, gridHeight * gridWidth, "patch scores");
        Guard.Length(destination.Length, height * width, "anomaly map");
        Guard.Finite(patchScores, "patch scores");
        if (!(sigmaY >= 0 && sigmaX >= 0 && double.IsFinite(sigmaY) && double.IsFinite(sigmaX)))
        {
            throw new InvalidClusteringInputException($"the smoothing sigmas must be finite and at least 0; got {sigmaY} and {sigmaX}.", nameof(sigmaY));
        }
        Upsample(patchScores, gridHeight, gridWidth, height, width, destination);
        if (sigmaY > 0 || sigmaX > 0)
        {
            Smooth(destination, height, width, sigmaY, sigmaX);
        }
    }

    /// <summary>
    /// SciPy's 1-D Gaussian kernel: radius int(truncate sigma + 0.5), weights exp(-x^2 / (2 sigma^2)) normalised to sum 1.
    /// </summary>
    public static double[] Kernel(double sigma)
    {
        var radius = (int)(Truncate * sigma + 0.5);
        var kernel = new double[2 * radius + 1];
        var sum = 0.0;
        for (var x = -radius; x <= radius; x++)
        {
            sum += kernel[x + radius] = Math.Exp(-0.5 / (sigma * sigma) * x * x);
        }
        for (var i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= sum;
        }
        return kernel;
    }

    private static void Upsample(ReadOnlySpan<float> grid, int gridHeight, int gridWidth, int height, int width, Span<float> destination)
    {
        var rows = BilinearAxis.Create(gridHeight, height);
        var columns = BilinearAxis.Create(gridWidth, width);
        for (var y = 0; y < height; y++)
        {
            var top = grid.Slice(rows.Index0[y] * gridWidth, gridWidth);
            var bottom = grid.Slice(rows.Index1[y] * gridWidth, gridWidth);
            var (wTop, wBottom) = (rows.Lambda0[y], rows.Lambda1[y]);
            var line = destination.Slice(y * width, width);
            for (var x = 0; x < width; x++)
            {
                int x0 = columns.Index0[x], x1 = columns.Index1[x];
                float l0 = columns.Lambda0[x], l1 = columns.Lambda1[x];
                line[x] = wTop * (l0 * top[x0] + l1 * top[x1]) + wBottom * (l0 * bottom[x0] + l1 * bottom[x1]);
            }
        }
    }

    private static void Smooth(Span<float> map, int height, int width, double sigmaY, double sigmaX)
    {
        var scratch = ArrayPool<double>.Shared.Rent(height * width);
        try
        {
            var vertical = sigmaY > 0 ? Kernel(sigmaY) : [1.0];
            var radiusY = vertical.Length / 2;
            for (var y = 0; y < height; y++)
            {
                var row = scratch.AsSpan(y * width, width);
                row.Clear();
                for (var k = -radiusY; k <= radiusY; k++)
                {
                    var weight = vertical[k + radiusY];
                    var source = map.Slice(Reflect(y + k, height) * width, width);
                    for (var x = 0; x < width; x++)
                    {
                        row[x] += weight * source[x];
                    }
                }
            }
            var horizontal = sigmaX > 0 ? Kernel(sigmaX) : [1.0];
            var radiusX = horizontal.Length / 2;
            var reflected = new int[width + 2 * radiusX];
            for (var i = 0; i < reflected.Length; i++)
            {
                reflected[i] = Reflect(i - radiusX, width);
            }
            for (var y = 0; y < height; y++)
            {
                var row = scratch.AsSpan(y * width, width);
                var line = map.Slice(y * width, width);
                for (var x = 0; x < width; x++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < horizontal.Length; k++)
                    {
                        sum += horizontal[k] * row[reflected[x + k]];
                    }
                    line[x] = (float)sum;
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>SciPy's "reflect" extension (d c b a | a b c d | d c b a), periodic with period 2n for any offset.</summary>
    private static int Reflect(int index, int size)
    {
        var period = 2 * size;
        var i = index % period;
        if (i < 0)
        {
            i += period;
        }
        return i < size ? i : period - 1 - i;
    }
}
