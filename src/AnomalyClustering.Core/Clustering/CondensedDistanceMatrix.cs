using System.Runtime.Intrinsics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The N(N-1)/2 pairwise distances of N points in SciPy's <c>pdist</c> order: (0,1), (0,2), ...,
/// (0,N-1), (1,2), ..., (N-2,N-1). Memory: 4 N(N-1) bytes (1.6 GB at N = 20,000).
/// </summary>
public sealed class CondensedDistanceMatrix
{
    /// <summary>The most points a matrix can hold: N(N-1)/2 must fit in one .NET array.</summary>
    public const int MaxPointCount = 65_535;

    /// <summary>
    /// The largest distance accepted. Ward's update squares distances, so anything near
    /// sqrt(double.MaxValue) would overflow to infinity; real embeddings are nowhere near this.
    /// </summary>
    public const double MaxDistance = 1e150;

    private double[]? _values;

    private CondensedDistanceMatrix(int pointCount, double[] values)
    {
        PointCount = pointCount;
        _values = values;
    }

    /// <summary>Number of points N.</summary>
    public int PointCount { get; }

    /// <summary>
    /// The condensed distances (not a copy). Throws <see cref="InvalidOperationException"/> once
    /// <see cref="HierarchicalClustering.LinkageInPlace"/> has consumed the matrix.
    /// </summary>
    public double[] Values => _values ?? throw ConsumedError();

    /// <summary>True once <see cref="HierarchicalClustering.LinkageInPlace"/> has overwritten the values.</summary>
    public bool IsConsumed => _values is null;

    /// <summary>The distance between points <paramref name="i"/> and <paramref name="j"/> (0 when i == j).</summary>
    public double this[int i, int j]
    {
        get
        {
            if ((uint)i >= (uint)PointCount || (uint)j >= (uint)PointCount)
            {
                throw new ArgumentOutOfRangeException(i >= PointCount || i < 0 ? nameof(i) : nameof(j), $"point indices must be in [0, {PointCount}).");
            }
            if (i == j)
            {
                return 0.0;
            }
            var (low, high) = i < j ? (i, j) : (j, i);
            return Values[IndexOf(PointCount, low, high)];
        }
    }

    /// <summary>Length of the condensed array for <paramref name="pointCount"/> points: N(N-1)/2.</summary>
    public static long LengthFor(int pointCount) => (long)pointCount * (pointCount - 1) / 2;

    /// <summary>
    /// Wraps distances already in condensed order (for example SciPy's <c>pdist</c> output). The
    /// array is not copied, so <see cref="HierarchicalClustering.LinkageInPlace"/> overwrites it.
    /// O(N^2) time to validate.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">
    /// The length is not N(N-1)/2 for some N >= 2, or a value is NaN, infinite, negative or above <see cref="MaxDistance"/>.
    /// </exception>
    public static CondensedDistanceMatrix FromCondensed(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var pointCount = PointCountFor(values.LongLength);
        if (pointCount < 2)
        {
            throw new InvalidClusteringInputException(
                $"a condensed distance matrix of length {values.Length} is not N(N-1)/2 for any N >= 2; pass the upper triangle of an N x N distance matrix in row order (scipy pdist order).",
                nameof(values));
        }
        ValidateDistances(values);
        return new CondensedDistanceMatrix(pointCount, values);
    }

    /// <summary>
    /// The Euclidean distances between <paramref name="count"/> points of <paramref name="dimension"/>
    /// floats (row-major), equal bit for bit to <c>scipy.spatial.distance.pdist(X.astype(float64))</c>:
    /// each distance sums the squared coordinate differences in double precision in coordinate order.
    /// O(N^2 D) time spread over all cores, O(N^2) memory for the result plus O(N D) scratch.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, or a value that is not finite.</exception>
    public static CondensedDistanceMatrix FromPoints(ReadOnlySpan<float> points, int count, int dimension)
    {
        ValidateShape(points.Length, count, dimension);
        Guard.Finite(points, "points");
        var rows = GC.AllocateUninitializedArray<double>(points.Length);
        for (var i = 0; i < points.Length; i++)
        {
            rows[i] = points[i];
        }
        return FromValidatedRows(rows, count, dimension);
    }

    /// <summary>
    /// The Euclidean distances between <paramref name="count"/> points of <paramref name="dimension"/>
    /// doubles (row-major), equal bit for bit to <c>scipy.spatial.distance.pdist(X)</c>.
    /// O(N^2 D) time spread over all cores, O(N^2) memory for the result plus O(N D) scratch.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Fewer than 2 points, a shape mismatch, or a value that is not finite.</exception>
    public static CondensedDistanceMatrix FromPoints(ReadOnlySpan<double> points, int count, int dimension)
    {
        ValidateShape(points.Length, count, dimension);
        Guard.Finite(points, "points");
        return FromValidatedRows(points, count, dimension);
    }

    /// <summary>Position of the pair (low, high), low &lt; high, in the condensed array.</summary>
    internal static long IndexOf(int pointCount, int low, int high) =>
        (long)pointCount * low - (long)low * (low + 1) / 2 + (high - low - 1);

    /// <summary>
    /// For every row a: the offset such that pair (a, b), a &lt; b, sits at RowBase[a] + b. Shared by
    /// the linkage loops, which then need one add per element instead of the full index formula.
    /// </summary>
    internal static long[] RowBases(int pointCount)
    {
        var bases = new long[pointCount];
        for (var a = 0; a < pointCount; a++)
        {
            bases[a] = IndexOf(pointCount, a, a + 1) - (a + 1);
        }
        return bases;
    }

    /// <summary>Hands the values to an in-place algorithm and marks this matrix as consumed.</summary>
    internal double[] Consume()
    {
        var values = Values;
        _values = null;
        return values;
    }

    private static CondensedDistanceMatrix FromValidatedRows(ReadOnlySpan<double> rows, int count, int dimension)
    {
        // Coordinates this large would make a squared difference overflow; say so instead of returning infinity.
        var largest = 0.0;
        foreach (var v in rows)
        {
            largest = Math.Max(largest, Math.Abs(v));
        }
        if (2 * largest * Math.Sqrt(dimension) > MaxDistance)
        {
            throw new InvalidClusteringInputException(
                $"points have coordinates up to {largest:G3}; distances would exceed {MaxDistance:G3} and overflow. Rescale the points.",
                "points");
        }
        var values = LargePages.AllocateUninitialized(LengthFor(count));
        PairwiseEuclidean.Compute(rows, count, dimension, values);
        return new CondensedDistanceMatrix(count, values);
    }

    private static void ValidateShape(int length, int count, int dimension)
    {
        Guard.AtLeast(count, 2, "point count");
        Guard.AtLeast(dimension, 1, "dimension");
        if (count > MaxPointCount)
        {
            throw new InvalidClusteringInputException(
                $"point count is {count}; exact clustering holds all N(N-1)/2 distances and supports at most {MaxPointCount} points.",
                "count");
        }
        if ((long)count * dimension != length)
        {
            throw new InvalidClusteringInputException(
                $"points has {length} values, but count x dimension = {count} x {dimension} = {(long)count * dimension}.",
                "points");
        }
    }

    private static int PointCountFor(long length)
    {
        // Solve N(N-1)/2 = length, then check the rounding.
        var n = (long)Math.Round((1 + Math.Sqrt(1 + 8.0 * length)) / 2);
        if (n < 2 || n > MaxPointCount || n * (n - 1) / 2 != length)
        {
            return -1;
        }
        return (int)n;
    }

    private static void ValidateDistances(double[] values)
    {
        // One vectorised pass: NaN fails both comparisons, so it is caught with the range check.
        var low = Vector256<double>.Zero;
        var high = Vector256.Create(MaxDistance);
        var i = 0;
        var ok = true;
        for (; i + Vector256<double>.Count <= values.Length && ok; i += Vector256<double>.Count)
        {
            var v = Vector256.Create(values.AsSpan(i, Vector256<double>.Count));
            ok = Vector256.GreaterThanOrEqualAll(v, low) && Vector256.LessThanOrEqualAll(v, high);
        }
        for (i = ok ? i : i - Vector256<double>.Count; i < values.Length; i++)
        {
            var v = values[i];
            if (!(v >= 0 && v <= MaxDistance))
            {
                throw new InvalidClusteringInputException(
                    $"the condensed distances hold {v} at index {i}; distances must be finite, non-negative and at most {MaxDistance:G3}.",
                    nameof(values));
            }
        }
    }

    private static InvalidOperationException ConsumedError() =>
        new("this distance matrix was consumed by HierarchicalClustering.LinkageInPlace; its values were overwritten. Use Linkage to keep them.");
}
