using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The cluster centroids of the centroid Ward chain in float32 rows: each centroid is a "high" row
/// (its value rounded to float) and, once it is a merge or came in as doubles, a "low" row with the
/// rounding residual, so high + low carries about 48 bits of the double centroid. The scans read
/// only the high rows (half the bytes of doubles); the exact distances read both. A merge frees
/// the smaller member's row, which takes the new low part, so N points given as floats never need
/// more than their own N x D floats (4 N D bytes) plus O(N).
/// </summary>
internal sealed unsafe class SplitFloatCentroids
{
    private readonly float[] _rows;
    private readonly float* _base;
    private readonly float[] _zeroRow;
    private readonly float* _zero;
    private readonly int[] _lowRow;
    private readonly double[] _lowNorm;

    private SplitFloatCentroids(int count, int rows, int dimension)
    {
        Count = count;
        Dimension = dimension;
        _rows = GC.AllocateUninitializedArray<float>(checked(rows * dimension), pinned: true);
        _base = (float*)Unsafe.AsPointer(ref _rows[0]);
        _zeroRow = GC.AllocateArray<float>(dimension, pinned: true);
        _zero = (float*)Unsafe.AsPointer(ref _zeroRow[0]);
        _lowRow = new int[count];
        Array.Fill(_lowRow, -1);
        _lowNorm = new double[count];
    }

    /// <summary>Number of clusters the chain starts with (cluster i lives in high row i).</summary>
    public int Count { get; }

    /// <summary>Dimension D of a centroid.</summary>
    public int Dimension { get; }

    /// <summary>Points given as floats: their rows are the high rows and exact as they are. 4 N D bytes.</summary>
    public static SplitFloatCentroids FromSingles(ReadOnlySpan<float> points, int count, int dimension)
    {
        var centroids = new SplitFloatCentroids(count, count, dimension);
        points.CopyTo(centroids._rows);
        return centroids;
    }

    /// <summary>
    /// Centroids given as doubles: high and low rows for each (8 N D bytes, the size of the input).
    /// Every value must be finite and within float's range (<see cref="LinearMemoryWard.MaxMagnitude"/>);
    /// values below about 1e-30 in magnitude keep only float's subnormal precision.
    /// </summary>
    public static SplitFloatCentroids FromDoubles(ReadOnlySpan<double> values, int count, int dimension)
    {
        var centroids = new SplitFloatCentroids(count, 2 * count, dimension);
        for (var i = 0; i < count; i++)
        {
            centroids._lowRow[i] = count + i;
            centroids.Store(i, values.Slice(i * dimension, dimension));
        }
        return centroids;
    }

    /// <summary>The high (float-rounded) row of a live cluster.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* High(int cluster) => _base + (long)cluster * Dimension;

    /// <summary>
    /// An upper bound on || low row || of a live cluster (0 when its high row is exact): how far
    /// the high row may be from the centroid, the slack a float scan must allow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double LowNorm(int cluster) => _lowNorm[cluster];

    /// <summary>The centroid of a live cluster in double (high + low).</summary>
    public void Load(int cluster, Span<double> into)
    {
        var high = High(cluster);
        var low = Low(cluster);
        for (var k = 0; k < Dimension; k++)
        {
            into[k] = (double)high[k] + low[k];
        }
    }

    /// <summary>
    /// Merges live cluster <paramref name="x"/> into live cluster <paramref name="y"/>:
    /// c_y = (n_x c_x + n_y c_y) / (n_x + n_y) in double, kept as high + low with the low part in
    /// x's freed high row. <paramref name="merged"/> receives the new centroid in double. O(D).
    /// </summary>
    public void Merge(int x, int y, long sizeX, long sizeY, Span<double> scratch, Span<double> merged)
    {
        Load(x, scratch);
        Load(y, merged);
        double nx = sizeX;
        double ny = sizeY;
        var total = nx + ny;
        for (var k = 0; k < Dimension; k++)
        {
            merged[k] = (nx * scratch[k] + ny * merged[k]) / total;
        }
        // x's high row is free now; any low rows x and y held are no longer needed.
        _lowRow[y] = x;
        _lowRow[x] = -1;
        _lowNorm[x] = 0;
        Store(y, merged);
    }

    /// <summary>Writes a centroid as high = float(c), low = float(c - high); records || low || rounded up.</summary>
    private void Store(int cluster, ReadOnlySpan<double> centroid)
    {
        var high = High(cluster);
        var low = _base + (long)_lowRow[cluster] * Dimension;
        var lowSquares = 0.0;
        for (var k = 0; k < Dimension; k++)
        {
            var h = (float)centroid[k];
            var l = (float)(centroid[k] - h);
            high[k] = h;
            low[k] = l;
            lowSquares += (double)l * l;
        }
        _lowNorm[cluster] = Math.Sqrt(lowSquares) * (1 + 1e-9);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Low(int cluster)
    {
        var row = _lowRow[cluster];
        return row < 0 ? _zero : _base + (long)row * Dimension;
    }

    /// <summary>
    /// ||c_a - c_b||^2 in double from high + low; the same operations in the same order for (a, b)
    /// and (b, a), so the value is symmetric bit for bit. O(D).
    /// </summary>
    public double SquaredDistance(int a, int b)
    {
        var highA = High(a);
        var lowA = Low(a);
        var highB = High(b);
        var lowB = Low(b);
        var k = 0;
        var sum = 0.0;
        if (Dimension >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k + 8 <= Dimension; k += 8)
            {
                var (ha0, ha1) = Vector256.Widen(Vector256.Load(highA + k));
                var (la0, la1) = Vector256.Widen(Vector256.Load(lowA + k));
                var (hb0, hb1) = Vector256.Widen(Vector256.Load(highB + k));
                var (lb0, lb1) = Vector256.Widen(Vector256.Load(lowB + k));
                var t0 = (ha0 + la0) - (hb0 + lb0);
                var t1 = (ha1 + la1) - (hb1 + lb1);
                acc0 += t0 * t0;
                acc1 += t1 * t1;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; k < Dimension; k++)
        {
            var t = ((double)highA[k] + lowA[k]) - ((double)highB[k] + lowB[k]);
            sum += t * t;
        }
        return sum;
    }

    /// <summary>
    /// Relative error bound of <see cref="FloatSquaredDistance"/> against the exact squared distance
    /// of the high rows: every term is non-negative, so the error of a sum of D squares with at most
    /// D / 8 + 8 sequential roundings per lane is below (D / 8 + 8) u; this doubles u and adds 40 for margin.
    /// </summary>
    public static double FloatScanRelativeError(int dimension) => (dimension / 8 + 48) * Math.ScaleB(1.0, -23);

    /// <summary>
    /// Absolute error bound of <see cref="FloatSquaredDistance"/> from underflow (each rounding of a
    /// subnormal loses at most half of 2^-149).
    /// </summary>
    public static double FloatScanAbsoluteError(int dimension) => (dimension + 64) * Math.ScaleB(1.0, -148);

    /// <summary>||a - b||^2 of two float rows in float with 256-bit vectors and fused multiply-adds. O(D).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FloatSquaredDistance(float* a, float* b, int dimension)
    {
        var k = 0;
        var acc0 = Vector256<float>.Zero;
        if (dimension >= 32)
        {
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            for (; k + 32 <= dimension; k += 32)
            {
                var t0 = Vector256.Load(a + k) - Vector256.Load(b + k);
                var t1 = Vector256.Load(a + k + 8) - Vector256.Load(b + k + 8);
                var t2 = Vector256.Load(a + k + 16) - Vector256.Load(b + k + 16);
                var t3 = Vector256.Load(a + k + 24) - Vector256.Load(b + k + 24);
                acc0 = Vector256.FusedMultiplyAdd(t0, t0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(t1, t1, acc1);
                acc2 = Vector256.FusedMultiplyAdd(t2, t2, acc2);
                acc3 = Vector256.FusedMultiplyAdd(t3, t3, acc3);
            }
            acc0 = (acc0 + acc1) + (acc2 + acc3);
        }
        for (; k + 8 <= dimension; k += 8)
        {
            var t = Vector256.Load(a + k) - Vector256.Load(b + k);
            acc0 = Vector256.FusedMultiplyAdd(t, t, acc0);
        }
        var sum = Vector256.Sum(acc0);
        for (; k < dimension; k++)
        {
            var t = a[k] - b[k];
            sum = MathF.FusedMultiplyAdd(t, t, sum);
        }
        return sum;
    }
}
