using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// The Ward chain's bit-split centroid rows: the values come back exactly from the two planes, and the
/// scan's distance to the upper plane, with its slack, bounds the exact distance.
/// </summary>
public unsafe class SplitFloatCentroidsTests
{
    public static TheoryData<int> Dimensions() => new(1, 7, 15, 16, 17, 31, 32, 33, 48, 256, 1030);

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void FloatAndDoublePointsComeBackExactly(int dimension)
    {
        var (points, count) = Points(40, dimension, seed: dimension);
        var fromFloats = SplitFloatCentroids.FromSingles(points, count, dimension);
        var doubles = points.Select((v, i) => v + Math.ScaleB(v, -30) * ((i % 3) - 1)).ToArray();
        var fromDoubles = SplitFloatCentroids.FromDoubles(doubles, count, dimension);
        var row = new double[dimension];
        var high = new float[dimension];
        for (var i = 0; i < count; i++)
        {
            fromFloats.Load(i, row);
            Assert.Equal(points.AsSpan(i * dimension, dimension).ToArray().Select(v => (double)v), row);
            fromFloats.LoadHigh(i, high);
            Assert.Equal(points.AsSpan(i * dimension, dimension).ToArray(), high);
            Assert.Equal(0, fromFloats.LowNorm(i));
            fromDoubles.Load(i, row);
            for (var k = 0; k < dimension; k++)
            {
                // high + low holds about 48 bits of each double.
                Assert.Equal(doubles[i * dimension + k], row[k], Math.Abs(doubles[i * dimension + k]) * 1e-13);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void TheUpperPlaneDistanceAndItsSlackBoundTheExactDistance(int dimension)
    {
        // Points far from the origin, so that the truncated halves are off by far more than the float rounding.
        var (points, count) = Points(30, dimension, seed: 100 + dimension, offset: 50);
        var doubles = points.Select((v, i) => v + Math.ScaleB(v, -28) * ((i % 5) - 2)).ToArray();
        foreach (var centroids in new[] { SplitFloatCentroids.FromSingles(points, count, dimension), SplitFloatCentroids.FromDoubles(doubles, count, dimension) })
        {
            // Merges give centroids with low rows in freed rows.
            var scratch = new double[dimension];
            var merged = new double[dimension];
            centroids.Merge(0, 1, 1, 1, scratch, merged);
            centroids.Merge(2, 1, 1, 2, scratch, merged);
            centroids.Merge(4, 3, 1, 1, scratch, merged);
            int[] live = [1, 3, .. Enumerable.Range(5, count - 5)];
            var high = new float[dimension];
            var query = new float[dimension];
            var a = new double[dimension];
            var b = new double[dimension];
            var relative = SplitFloatCentroids.FloatScanRelativeError(dimension);
            var absolute = SplitFloatCentroids.FloatScanAbsoluteError(dimension);
            foreach (var x in live)
            {
                centroids.LoadHigh(x, high);
                SplitFloatCentroids.ToScanOrder(high, query);
                centroids.Load(x, a);
                foreach (var j in live.Where(j => j != x))
                {
                    centroids.Load(j, b);
                    var exact = Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Sum());
                    Assert.Equal(exact * exact, centroids.SquaredDistance(x, j), exact * exact * 1e-12);
                    float squared;
                    fixed (float* q = query)
                    {
                        squared = SplitFloatCentroids.TopSquaredDistance(q, centroids.Top(j), dimension);
                    }
                    // The filter's bounds: ||c_x - c_j|| is within ||low_x|| + TopSlack(j) of ||high_x - top_j||.
                    var slack = centroids.LowNorm(x) + centroids.TopSlack(j);
                    var below = Math.Sqrt(Math.Max(0, squared * (1 - relative) - absolute)) - slack;
                    var above = Math.Sqrt(squared * (1 + relative) + absolute) + slack;
                    Assert.InRange(exact, below, above);
                    // And the slack is the truncation's size, not a loose bound (what decides how much the scan keeps).
                    Assert.True(centroids.TopSlack(j) <= 1e-2 * Math.Sqrt(b.Sum(v => v * v)) + centroids.LowNorm(j) * 2, $"slack {centroids.TopSlack(j)}");
                }
            }
        }
    }

    [Theory]
    [InlineData(100f, 10f, true)]
    [InlineData(-500f, 200f, true)]
    [InlineData(1f, 9f, false)]
    [InlineData(-1f, 2f, false)]
    public void AnOffsetIsSubtractedExactlyOnlyWhereEveryValueIsWithinTwiceAnother(float start, float width, bool offset)
    {
        // Values in [start, start + width): an offset only when they keep one sign and the largest magnitude is at
        // most twice the smallest; the stored values are then the input less it, exactly.
        const int count = 50, dimension = 20;
        var random = new Random(9);
        var points = Enumerable.Range(0, count * dimension).Select(_ => start + (float)random.NextDouble() * width).ToArray();
        foreach (var centroids in new[] { SplitFloatCentroids.FromSingles(points, count, dimension), SplitFloatCentroids.FromDoubles(points.Select(v => (double)v).ToArray(), count, dimension) })
        {
            Assert.All(centroids.Offsets.ToArray(), o => Assert.Equal(offset, o != 0));
            var row = new double[dimension];
            for (var i = 0; i < count; i++)
            {
                centroids.Load(i, row);
                for (var k = 0; k < dimension; k++)
                {
                    Assert.Equal((double)points[i * dimension + k], row[k] + centroids.Offsets[k]);
                    Assert.Equal((double)points[i * dimension + k] - centroids.Offsets[k], row[k]);
                }
            }
        }
    }

    [Fact]
    public void TheScanOrderTakesEachBlocksEvenValuesThenItsOddOnesAndLeavesTheTail()
    {
        var row = Enumerable.Range(0, 35).Select(i => (float)i).ToArray();
        var ordered = new float[35];
        SplitFloatCentroids.ToScanOrder(row, ordered);
        float[] block = [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15];
        Assert.Equal(block, ordered[..16]);
        Assert.Equal(block.Select(v => v + 16), ordered[16..32]);
        Assert.Equal(new float[] { 32, 33, 34 }, ordered[32..]);
    }

    private static (float[] Points, int Count) Points(int count, int dimension, int seed, float offset = 0)
    {
        var random = new Random(seed);
        var points = new float[count * dimension];
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = offset + (float)(random.NextDouble() * 4 - 2) * (1 + i % 3);
        }
        return (points, count);
    }
}
