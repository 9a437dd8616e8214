using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The cluster centroids of the centroid Ward chain in float32 rows: each centroid is a "high" row
/// (its value rounded to float) and, once it is a merge or came in as doubles, a "low" row with the
/// rounding residual, so high + low carries about 48 bits of the double centroid. The exact
/// distances read both; the scans read only the high rows (half the bytes of doubles), and where
/// the rows no longer fit in cache only the top half of each high value's bits (see below).
/// A merge frees the smaller member's row, which takes the new low part, so N points given as
/// floats never need more than their own N x D floats (4 N D bytes) plus O(N).
/// </summary>
/// <remarks>
/// The rows are stored bit-split in two planes: one holds the upper 16 bits of every value (sign,
/// exponent and 7 mantissa bits: the value truncated to bfloat16), the other the lower 16 bits.
/// Same bytes as the floats, and the floats come back exactly; but a scan that reads only the
/// upper plane streams half the bytes, with an error per row known in advance
/// (<see cref="TopSlack"/>: the norm of what the truncation dropped, measured when the row is
/// written). The scans run at memory speed where they read most rows, so half the bytes is what
/// counts; the candidates they keep still get their exact distances from both planes.
/// </remarks>
internal sealed unsafe class SplitFloatCentroids
{
    private readonly ushort[] _upperPlane;
    private readonly ushort[] _lowerPlane;
    private readonly ushort* _upper;
    private readonly ushort* _lower;
    private readonly int _zeroRow;
    private readonly int[] _lowRow;
    private readonly double[] _lowNorm;
    private readonly double[] _topSlack;
    private readonly double[] _offsets;

    private SplitFloatCentroids(int count, int rows, int dimension)
    {
        Count = count;
        Dimension = dimension;
        // One more row than needed: zeros, the low row of a cluster whose high row is exact.
        _zeroRow = rows;
        _upperPlane = GC.AllocateUninitializedArray<ushort>(checked((rows + 1) * dimension), pinned: true);
        _lowerPlane = GC.AllocateUninitializedArray<ushort>(checked((rows + 1) * dimension), pinned: true);
        _upper = (ushort*)Unsafe.AsPointer(ref _upperPlane[0]);
        _lower = (ushort*)Unsafe.AsPointer(ref _lowerPlane[0]);
        new Span<ushort>(Upper(_zeroRow), dimension).Clear();
        new Span<ushort>(Lower(_zeroRow), dimension).Clear();
        _lowRow = new int[count];
        Array.Fill(_lowRow, -1);
        _lowNorm = new double[count];
        _topSlack = new double[count];
        _offsets = new double[dimension];
    }

    /// <summary>Number of clusters the chain starts with (cluster i lives in high row i).</summary>
    public int Count { get; }

    /// <summary>Dimension D of a centroid.</summary>
    public int Dimension { get; }

    /// <summary>Points given as floats: their rows are the high rows and exact as they are. 4 N D bytes.</summary>
    public static SplitFloatCentroids FromSingles(ReadOnlySpan<float> points, int count, int dimension)
    {
        var centroids = new SplitFloatCentroids(count, count, dimension);
        ChooseOffsets(points, count, dimension, centroids._offsets);
        // Float values, since the offsets are floats within the values' range, whose bounds are floats.
        var singleOffsets = centroids._offsets.Select(offset => (float)offset).ToArray();
        for (var i = 0; i < count; i++)
        {
            var truncated = 0.0;
            for (var k = 0; k < dimension; k++)
            {
                // Exact: within a dimension that has an offset, every value is within a factor of 2 of it (Sterbenz).
                var value = points[i * dimension + k] - singleOffsets[k];
                centroids.StoreValue(i, k, value);
                var dropped = (double)value - TruncatedToTop(value);
                truncated += dropped * dropped;
            }
            centroids._topSlack[i] = RoundUp(Math.Sqrt(truncated));
        }
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
        var offsets = centroids._offsets;
        ChooseOffsets(values, count, dimension, offsets);
        var row = new double[dimension];
        for (var i = 0; i < count; i++)
        {
            centroids._lowRow[i] = count + i;
            for (var k = 0; k < dimension; k++)
            {
                // Exact in double, by the same factor-of-2 rule.
                row[k] = values[i * dimension + k] - offsets[k];
            }
            centroids.Store(i, row);
        }
        return centroids;
    }

    /// <summary>
    /// What was subtracted from every input value of each dimension (0 for most): the centroids held
    /// here are the input's less these. Ward's distances do not change under a translation, and the
    /// subtraction is exact; it keeps the upper halves' truncation (up to 1/128 of a value) small
    /// next to the distances where a dimension's values sit far from 0.
    /// </summary>
    public ReadOnlySpan<double> Offsets => _offsets;

    /// <summary>The upper 16 bits of each high value of a live cluster (D of them, contiguous; bfloat16 truncations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort* Top(int cluster) => Upper(cluster);

    /// <summary>The lower 16 bits of each high value of a live cluster (D of them, contiguous).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort* Bottom(int cluster) => Lower(cluster);

    /// <summary>The high (float-rounded) row of a live cluster, rebuilt from its halves.</summary>
    public void LoadHigh(int cluster, Span<float> into)
    {
        for (var k = 0; k < Dimension; k++)
        {
            into[k] = Value(cluster, k);
        }
    }

    /// <summary>The high row of a live cluster in <see cref="ToScanOrder"/>: the query the scan kernels read.</summary>
    public void LoadHighInScanOrder(int cluster, Span<float> into)
    {
        for (var k = 0; k < Dimension; k++)
        {
            into[ScanPosition(k, Dimension)] = Value(cluster, k);
        }
    }

    /// <summary>
    /// An upper bound on || low row || of a live cluster (0 when its high row is exact): how far
    /// the high row may be from the centroid, the slack a float scan must allow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double LowNorm(int cluster) => _lowNorm[cluster];

    /// <summary>
    /// An upper bound on || centroid - top row ||: the low row's norm plus the norm of the bits the
    /// truncation to the upper halves dropped; the slack a scan of <see cref="Top"/> must allow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double TopSlack(int cluster) => _topSlack[cluster];

    /// <summary>The centroid of a live cluster in double (high + low).</summary>
    public void Load(int cluster, Span<double> into)
    {
        var low = LowRow(cluster);
        for (var k = 0; k < Dimension; k++)
        {
            into[k] = (double)Value(cluster, k) + Value(low, k);
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
        _topSlack[x] = 0;
        Store(y, merged);
    }

    /// <summary>
    /// Writes a centroid as high = float(c), low = float(c - high); records || low || and
    /// || low || + || high - top(high) ||, rounded up.
    /// </summary>
    private void Store(int cluster, ReadOnlySpan<double> centroid)
    {
        var low = _lowRow[cluster];
        var lowSquares = 0.0;
        var truncated = 0.0;
        for (var k = 0; k < Dimension; k++)
        {
            var h = (float)centroid[k];
            var l = (float)(centroid[k] - h);
            StoreValue(cluster, k, h);
            StoreValue(low, k, l);
            lowSquares += (double)l * l;
            var dropped = (double)h - TruncatedToTop(h);
            truncated += dropped * dropped;
        }
        var lowNorm = RoundUp(Math.Sqrt(lowSquares));
        _lowNorm[cluster] = lowNorm;
        _topSlack[cluster] = RoundUp(lowNorm + Math.Sqrt(truncated));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double RoundUp(double value) => value * (1 + 1e-9);

    /// <summary>A float with its lower 16 bits cleared: what its upper half holds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float TruncatedToTop(float value) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & 0xFFFF0000u);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void StoreValue(int row, int k, float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        Upper(row)[k] = (ushort)(bits >> 16);
        Lower(row)[k] = (ushort)bits;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Value(int row, int k) => BitConverter.UInt32BitsToSingle(((uint)Upper(row)[k] << 16) | Lower(row)[k]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort* Upper(int row) => _upper + (long)row * Dimension;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort* Lower(int row) => _lower + (long)row * Dimension;

    /// <summary>The row holding a live cluster's low part (the zero row when its high row is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int LowRow(int cluster) => _lowRow[cluster] < 0 ? _zeroRow : _lowRow[cluster];

    /// <summary>Eight floats k..k+7 of a row, rebuilt from their halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> LoadEight(int row, int k)
    {
        var (upper0, upper1) = Vector128.Widen(Vector128.Load(Upper(row) + k));
        var (lower0, lower1) = Vector128.Widen(Vector128.Load(Lower(row) + k));
        return (Vector256.ShiftLeft(Vector256.Create(upper0, upper1), 16) | Vector256.Create(lower0, lower1)).AsSingle();
    }

    /// <summary>
    /// ||c_a - c_b||^2 in double from high + low; the same operations in the same order for (a, b)
    /// and (b, a), so the value is symmetric bit for bit. O(D).
    /// </summary>
    public double SquaredDistance(int a, int b)
    {
        var lowA = LowRow(a);
        var lowB = LowRow(b);
        var dimension = Dimension;
        var k = 0;
        var sum = 0.0;
        if (dimension >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k + 8 <= dimension; k += 8)
            {
                var (ha0, ha1) = Vector256.Widen(LoadEight(a, k));
                var (la0, la1) = Vector256.Widen(LoadEight(lowA, k));
                var (hb0, hb1) = Vector256.Widen(LoadEight(b, k));
                var (lb0, lb1) = Vector256.Widen(LoadEight(lowB, k));
                var t0 = (ha0 + la0) - (hb0 + lb0);
                var t1 = (ha1 + la1) - (hb1 + lb1);
                acc0 += t0 * t0;
                acc1 += t1 * t1;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; k < dimension; k++)
        {
            var t = ((double)Value(a, k) + Value(lowA, k)) - ((double)Value(b, k) + Value(lowB, k));
            sum += t * t;
        }
        return sum;
    }

    /// <summary>
    /// Relative error bound of <see cref="TopSquaredDistance"/> and <see cref="FloatSquaredDistance"/>
    /// against the exact squared distance of the rows they read: every term is non-negative, so the
    /// error of a sum of D squares is below u times the most roundings one term goes through (its
    /// difference, at most D / 16 accumulations in its lane, the combining of the lanes and up to 15
    /// scalar steps of the tail: below D / 8 + 24); this doubles u and adds margin.
    /// </summary>
    public static double FloatScanRelativeError(int dimension) => (dimension / 8 + 48) * Math.ScaleB(1.0, -23);

    /// <summary>
    /// Absolute error bound of <see cref="TopSquaredDistance"/> and <see cref="FloatSquaredDistance"/> from underflow (each rounding of a subnormal loses at most half of 2^-149).
    /// </summary>
    public static double FloatScanAbsoluteError(int dimension) => (dimension + 64) * Math.ScaleB(1.0, -148);

    /// <summary>
    /// The order in which the scan kernels want the query's values: within each block of 16, the
    /// even positions, then the odd ones (a 32-bit lane of upper halves holds an even and an odd
    /// value: a shift and a mask make floats of them, cheaper than widening); the values past the
    /// last whole block stay in place.
    /// </summary>
    public static void ToScanOrder(ReadOnlySpan<float> row, Span<float> into)
    {
        for (var k = 0; k < row.Length; k++)
        {
            into[ScanPosition(k, row.Length)] = row[k];
        }
    }

    /// <summary>Where value k of a row of D values stands in <see cref="ToScanOrder"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanPosition(int k, int dimension)
    {
        var block = k & ~15;
        var within = k & 15;
        return block + 16 > dimension ? k : block + (within & 1) * 8 + (within >> 1);
    }

    /// <summary>
    /// ||x - high_b||^2 in float with 256-bit vectors and fused multiply-adds: x a float row in
    /// <see cref="ToScanOrder"/>, high_b rebuilt from its two planes (4 bytes a value). O(D).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FloatSquaredDistance(float* x, ushort* top, ushort* bottom, int dimension)
    {
        var k = 0;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var highHalves = Vector256.Create(0xFFFF0000u);
        var lowHalves = Vector256.Create(0x0000FFFFu);
        for (; k + 16 <= dimension; k += 16)
        {
            var upper = Vector256.Load(top + k).AsUInt32();
            var lower = Vector256.Load(bottom + k).AsUInt32();
            var even = (Vector256.ShiftLeft(upper, 16) | (lower & lowHalves)).AsSingle();
            var odd = ((upper & highHalves) | Vector256.ShiftRightLogical(lower, 16)).AsSingle();
            var t0 = Vector256.Load(x + k) - even;
            var t1 = Vector256.Load(x + k + 8) - odd;
            acc0 = Vector256.FusedMultiplyAdd(t0, t0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(t1, t1, acc1);
        }
        var sum = Vector256.Sum(acc0 + acc1);
        for (; k < dimension; k++)
        {
            var t = x[k] - BitConverter.UInt32BitsToSingle(((uint)top[k] << 16) | bottom[k]);
            sum = MathF.FusedMultiplyAdd(t, t, sum);
        }
        return sum;
    }

    /// <summary>
    /// ||x - top_b||^2 in float, x a float row in <see cref="ToScanOrder"/> and top_b the upper
    /// halves of a high row (<see cref="Top"/>) read as floats: 2 bytes a value instead of 4. O(D).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TopSquaredDistance(float* x, ushort* top, int dimension)
    {
        var k = 0;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        var highHalves = Vector256.Create(0xFFFF0000u);
        for (; k + 32 <= dimension; k += 32)
        {
            var upper0 = Vector256.Load(top + k).AsUInt32();
            var upper1 = Vector256.Load(top + k + 16).AsUInt32();
            var t0 = Vector256.Load(x + k) - Vector256.ShiftLeft(upper0, 16).AsSingle();
            var t1 = Vector256.Load(x + k + 8) - (upper0 & highHalves).AsSingle();
            var t2 = Vector256.Load(x + k + 16) - Vector256.ShiftLeft(upper1, 16).AsSingle();
            var t3 = Vector256.Load(x + k + 24) - (upper1 & highHalves).AsSingle();
            acc0 = Vector256.FusedMultiplyAdd(t0, t0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(t1, t1, acc1);
            acc2 = Vector256.FusedMultiplyAdd(t2, t2, acc2);
            acc3 = Vector256.FusedMultiplyAdd(t3, t3, acc3);
        }
        for (; k + 16 <= dimension; k += 16)
        {
            var upper = Vector256.Load(top + k).AsUInt32();
            var t0 = Vector256.Load(x + k) - Vector256.ShiftLeft(upper, 16).AsSingle();
            var t1 = Vector256.Load(x + k + 8) - (upper & highHalves).AsSingle();
            acc0 = Vector256.FusedMultiplyAdd(t0, t0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(t1, t1, acc1);
        }
        var sum = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        for (; k < dimension; k++)
        {
            var t = x[k] - BitConverter.UInt32BitsToSingle((uint)top[k] << 16);
            sum = MathF.FusedMultiplyAdd(t, t, sum);
        }
        return sum;
    }

    /// <summary>
    /// Each dimension's offset (see <see cref="Offsets"/>): its values' mean rounded to float (so that value - offset
    /// keeps the bits high + low can hold) and kept within their range, where they allow an exact subtraction; else 0.
    /// </summary>
    private static void ChooseOffsets<T>(ReadOnlySpan<T> values, int count, int dimension, double[] offsets)
        where T : INumberBase<T>
    {
        var range = new ValueRange[dimension];
        for (var i = 0; i < count; i++)
        {
            for (var k = 0; k < dimension; k++)
            {
                range[k].Add(double.CreateTruncating(values[i * dimension + k]));
            }
        }
        for (var k = 0; k < dimension; k++)
        {
            var offset = range[k].ExactOffset(count);
            offsets[k] = offset == 0 ? 0 : range[k].WithinRange((float)offset);
        }
    }

    /// <summary>One dimension's values, gathered to choose its offset.</summary>
    private struct ValueRange
    {
        private double _sum;
        private double _smallest;
        private double _largest;
        private bool _any;

        public void Add(double value)
        {
            _sum += value;
            _smallest = _any ? Math.Min(_smallest, value) : value;
            _largest = _any ? Math.Max(_largest, value) : value;
            _any = true;
        }

        /// <summary>A value clamped to the values' range.</summary>
        public readonly double WithinRange(double value) => Math.Clamp(value, _smallest, _largest);

        /// <summary>
        /// The values' mean clamped to their range, when all of them have one
        /// sign and the largest magnitude is at most twice the smallest: then every value is within a
        /// factor of 2 of the offset and value - offset is exact (Sterbenz's lemma). Otherwise 0: the
        /// values reach near 0, so their truncation is small next to their spread anyway.
        /// </summary>
        public readonly double ExactOffset(int count)
        {
            var sameSign = _smallest > 0 || _largest < 0;
            var (low, high) = (Math.Min(Math.Abs(_smallest), Math.Abs(_largest)), Math.Max(Math.Abs(_smallest), Math.Abs(_largest)));
            if (!_any || !sameSign || high > 2 * low)
            {
                return 0;
            }
            return WithinRange(_sum / count);
        }
    }
}
