using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AnomalyClustering.Core.Scoring;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// A cheap lower bound on centroid distances for the Ward chain's scans: every centroid projected
/// on P orthonormal directions (P = 4, 8 or 16, at most D / 8), the leading principal directions of
/// a sample of the points found by subspace iteration. For orthonormal directions
/// ||Q^T (a - b)|| &lt;= ||a - b||, so a row whose projected distance already exceeds the best Ward
/// distance found is skipped without reading its D values. Which directions are chosen changes
/// only how much is skipped, never the result. P floats per cluster (at most 1/8 of the
/// centroids' memory) and O(N); O(S D P) to find the directions (S &lt;= 2048 sampled rows), O(D P)
/// per centroid to project it.
/// </summary>
internal sealed unsafe class CentroidProjection
{
    private const int SampleRows = 2048;
    private const int Iterations = 4;

    private readonly int _dimension;
    private readonly double[] _basis;
    private readonly double[] _mean;
    private readonly float[] _coordinates;
    private readonly float* _coordinatesBase;
    private readonly double[] _error;

    private CentroidProjection(int count, int dimension, int width, double[] basis, double[] mean)
    {
        _dimension = dimension;
        Width = width;
        _basis = basis;
        _mean = mean;
        _coordinates = GC.AllocateUninitializedArray<float>(checked(count * width), pinned: true);
        _coordinatesBase = (float*)Unsafe.AsPointer(ref _coordinates[0]);
        _error = new double[count];
    }

    /// <summary>Number of directions P.</summary>
    public int Width { get; }

    /// <summary>Directions to keep for dimension D: none below 32 (a full scan is cheap there).</summary>
    public static int WidthFor(int dimension) => dimension >= 128 ? 16 : dimension >= 64 ? 8 : dimension >= 32 ? 4 : 0;

    /// <summary>The projection of every centroid, or null when D is too small for it to pay.</summary>
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

        var projection = new CentroidProjection(count, dimension, width, basis, mean);
        for (var i = 0; i < count; i++)
        {
            centroids.Load(i, row);
            projection.Update(i, row);
        }
        return projection;
    }

    /// <summary>The P projected coordinates of a live cluster (float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Coordinates(int cluster) => _coordinatesBase + (long)cluster * Width;

    /// <summary>A bound on || stored coordinates - exact projection || of a live cluster.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Error(int cluster) => _error[cluster];

    /// <summary>Projects a cluster's (new) centroid, given in double. O(D P). Overwrites <paramref name="centroid"/>.</summary>
    public void Update(int cluster, Span<double> centroid)
    {
        var centredSquares = 0.0;
        for (var k = 0; k < _dimension; k++)
        {
            centroid[k] -= _mean[k];
            centredSquares += centroid[k] * centroid[k];
        }
        var target = Coordinates(cluster);
        var storedSquares = 0.0;
        for (var p = 0; p < Width; p++)
        {
            var value = (float)Dot(_basis.AsSpan(p * _dimension, _dimension), centroid);
            target[p] = value;
            storedSquares += (double)value * value;
        }
        // Float rounding of each coordinate (u |value|) plus the double dot products' error (a few D ulps of ||c - mean||).
        _error[cluster] = Math.Sqrt(storedSquares) * Math.ScaleB(1.0, -22) + Math.Sqrt(centredSquares) * (_dimension + 16) * Math.ScaleB(1.0, -50);
    }

    /// <summary>
    /// A lower bound on ||c_a - c_b|| from the projections (0 when none is known): the float
    /// distance of the coordinates less its rounding (relative 1e-5, far above the P + 4 roundings
    /// of a P-term float sum and the directions' departure from orthonormality) and both stored errors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double LowerBound(float* a, double errorA, int b)
    {
        var q = SquaredDistance(a, Coordinates(b), Width);
        if (!float.IsFinite(q))
        {
            return 0;
        }
        var bound = Math.Sqrt(q) * (1 - 1e-5) - (errorA + _error[b]);
        return bound > 0 ? bound : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SquaredDistance(float* a, float* b, int width)
    {
        var acc = Vector128<float>.Zero;
        for (var k = 0; k < width; k += 4)
        {
            var t = Vector128.Load(a + k) - Vector128.Load(b + k);
            acc = Vector128.FusedMultiplyAdd(t, t, acc);
        }
        return Vector128.Sum(acc);
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
