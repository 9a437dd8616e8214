using AnomalyClustering.Core.Scoring;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// A cheap lower bound on centroid distances for the Ward chain's scans: every centroid projected
/// on P orthonormal directions (P = 4, 8 or 16, at most D / 8), the leading principal directions of
/// a sample of the points found by subspace iteration. For orthonormal directions
/// ||Q^T (a - b)|| &lt;= ||a - b||, so a row whose projected distance already exceeds the best Ward
/// distance found is skipped without reading its D values (<see cref="LiveClusterTable"/> keeps the
/// coordinates). Which directions are chosen changes only how much is skipped, never the result.
/// O(S D P) to find the directions (S &lt;= 2048 sampled rows), O(D P) per centroid to project it.
/// </summary>
internal sealed class CentroidProjection
{
    private const int SampleRows = 2048;
    private const int Iterations = 4;

    private readonly int _dimension;
    private readonly double[] _basis;
    private readonly double[] _mean;

    private CentroidProjection(int dimension, int width, double[] basis, double[] mean)
    {
        _dimension = dimension;
        Width = width;
        _basis = basis;
        _mean = mean;
    }

    /// <summary>Number of directions P.</summary>
    public int Width { get; }

    /// <summary>Directions to keep for dimension D: none below 32 (a full scan is cheap there).</summary>
    public static int WidthFor(int dimension) => dimension >= 128 ? 16 : dimension >= 64 ? 8 : dimension >= 32 ? 4 : 0;

    /// <summary>The directions for these centroids, or null when D is too small for them to pay.</summary>
    public static CentroidProjection? Create(SplitFloatCentroids centroids)
    {
        var count = centroids.Count;
        var dimension = centroids.Dimension;
        var width = WidthFor(dimension);
        if (width == 0)
        {
            return null;
        }
        var sample = Math.Min(count, SampleRows);
        var row = new double[dimension];
        var mean = new double[dimension];
        for (var s = 0; s < sample; s++)
        {
            centroids.Load(SampleRow(s, sample, count), row);
            for (var k = 0; k < dimension; k++)
            {
                mean[k] += row[k];
            }
        }
        for (var k = 0; k < dimension; k++)
        {
            mean[k] /= sample;
        }

        // Subspace iteration Q <- orth(C Q) with C the sample's scatter matrix, C Q accumulated row by row.
        var basis = new double[width * dimension];
        var random = new SplitMix64(0x5741524450524F4AUL);
        for (var i = 0; i < basis.Length; i++)
        {
            basis[i] = (random.Next() >> 11) * Math.ScaleB(1.0, -52) - 1.0;
        }
        Orthonormalise(basis, width, dimension);
        var next = new double[width * dimension];
        var coordinates = new double[width];
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            Array.Clear(next);
            for (var s = 0; s < sample; s++)
            {
                centroids.Load(SampleRow(s, sample, count), row);
                for (var k = 0; k < dimension; k++)
                {
                    row[k] -= mean[k];
                }
                for (var p = 0; p < width; p++)
                {
                    coordinates[p] = Dot(basis.AsSpan(p * dimension, dimension), row);
                }
                for (var p = 0; p < width; p++)
                {
                    var target = next.AsSpan(p * dimension, dimension);
                    var y = coordinates[p];
                    for (var k = 0; k < dimension; k++)
                    {
                        target[k] += row[k] * y;
                    }
                }
            }
            (basis, next) = (next, basis);
            Orthonormalise(basis, width, dimension);
        }

        return new CentroidProjection(dimension, width, basis, mean);
    }

    /// <summary>
    /// Projects a centroid given in double into <paramref name="coordinates"/> (P floats) and returns a
    /// bound on || stored coordinates - exact projection ||. O(D P). Overwrites <paramref name="centroid"/>.
    /// </summary>
    public double Project(Span<double> centroid, Span<float> coordinates)
    {
        var centredSquares = 0.0;
        for (var k = 0; k < _dimension; k++)
        {
            centroid[k] -= _mean[k];
            centredSquares += centroid[k] * centroid[k];
        }
        var storedSquares = 0.0;
        for (var p = 0; p < Width; p++)
        {
            var value = (float)Dot(_basis.AsSpan(p * _dimension, _dimension), centroid);
            coordinates[p] = value;
            storedSquares += (double)value * value;
        }
        // Float rounding of each coordinate (u |value|) plus the double dot products' error (a few D ulps of ||c - mean||).
        var error = Math.Sqrt(storedSquares) * Math.ScaleB(1.0, -22) + Math.Sqrt(centredSquares) * (_dimension + 16) * Math.ScaleB(1.0, -50);
        return double.IsFinite(error) ? error : double.PositiveInfinity;
    }

    private static int SampleRow(int s, int sample, int count) => (int)((long)s * count / sample);

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }
        return sum;
    }

    /// <summary>
    /// Modified Gram-Schmidt, twice, over the rows of <paramref name="basis"/>; a row that vanishes
    /// (the sample spans fewer directions) becomes zero, which keeps ||Q^T v|| &lt;= ||v||.
    /// </summary>
    private static void Orthonormalise(double[] basis, int width, int dimension)
    {
        var largest = 0.0;
        for (var p = 0; p < width; p++)
        {
            var v = basis.AsSpan(p * dimension, dimension);
            var before = Math.Sqrt(Dot(v, v));
            largest = Math.Max(largest, before);
            for (var pass = 0; pass < 2; pass++)
            {
                for (var q = 0; q < p; q++)
                {
                    var u = basis.AsSpan(q * dimension, dimension);
                    var along = Dot(u, v);
                    for (var k = 0; k < dimension; k++)
                    {
                        v[k] -= along * u[k];
                    }
                }
            }
            var norm = Math.Sqrt(Dot(v, v));
            if (!(norm > 1e-9 * largest))
            {
                v.Clear();
                continue;
            }
            for (var k = 0; k < dimension; k++)
            {
                v[k] /= norm;
            }
        }
    }
}
