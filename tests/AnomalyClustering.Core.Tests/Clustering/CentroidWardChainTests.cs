using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// The chain's bounded scans against the same chain with a full exact double scan: merges and heights bit for bit on
/// data chosen to strain the bounds (far from the origin, subnormal, near float's largest, lattices full of exact ties,
/// values already exact in the upper halves), for float and double input, one and three threads, scans split or not;
/// and which rows the scans choose to read.
/// </summary>
public class CentroidWardChainTests
{
    private static readonly string[] Kinds = ["gauss", "offset1e4", "two-scales", "subnormal", "nearmax", "grid", "duplicates", "bf16", "ulp", "signed-zero"];

    public static TheoryData<string, int> KindsAndDimensions()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in Kinds)
        {
            foreach (var dimension in new[] { 1, 5, 16, 17, 33, 64, 130 })
            {
                data.Add(kind, dimension);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndDimensions))]
    public void FloatPointsGiveTheFullScansMergesBitForBit(string kind, int dimension)
    {
        const int count = 70;
        var points = Make(kind, count, dimension, seed: dimension * 31 + kind.Length);
        AssertSameAsFullScan(() => SplitFloatCentroids.FromSingles(points, count, dimension), Enumerable.Repeat(1L, count).ToArray(), $"{kind}, D = {dimension}");
    }

    [Theory]
    [MemberData(nameof(KindsAndDimensions))]
    public void WeightedDoubleCentroidsGiveTheFullScansMergesBitForBit(string kind, int dimension)
    {
        const int count = 70;
        var random = new Random(dimension);
        var values = Make(kind, count, dimension, seed: dimension * 17 + kind.Length)
            .Select(v => Math.Clamp(v * (1 + (random.NextDouble() - 0.5) * 1e-9), -1e36, 1e36)).ToArray();
        var weights = Enumerable.Range(0, count).Select(_ => (long)(1 + random.Next(5))).ToArray();
        AssertSameAsFullScan(() => SplitFloatCentroids.FromDoubles(values, count, dimension), weights, $"{kind} as weighted doubles, D = {dimension}");
    }

    [Fact]
    public void CentredDataScanOnlyTheUpperHalves()
    {
        var points = Make("gauss", 600, 64, seed: 3);
        var counts = new ScanCounts();
        CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, 600, 64), Enumerable.Repeat(1L, 600).ToArray(), 1, counts: counts);
        Assert.Equal(counts.Scans, counts.TopScans);
    }

    [Fact]
    public void DataFarFromTheOriginGetAnExactOffsetAndStillScanTheUpperHalves()
    {
        // 1e4 + [-1, 1): every value within a factor of 2 of the mean, so it is subtracted exactly.
        var points = Make("offset1e4", 600, 64, seed: 4);
        var centroids = SplitFloatCentroids.FromSingles(points, 600, 64);
        Assert.All(centroids.Offsets.ToArray(), offset => Assert.InRange(offset, 9999, 10001));
        var counts = new ScanCounts();
        CentroidWardChain.Run(centroids, Enumerable.Repeat(1L, 600).ToArray(), 1, counts: counts);
        Assert.Equal(counts.Scans, counts.TopScans);
    }

    [Fact]
    public void WhereTheUpperHalvesKeepTooManyCandidatesTheScansReadWholeRows()
    {
        // Two groups of points, near 1000 and near 2500 in every dimension (too far apart for an exact offset), spread
        // 0.01 inside: the upper halves are off by up to 4 a value, far more than the distances inside a group.
        var points = Make("two-scales", 600, 64, seed: 5);
        var centroids = SplitFloatCentroids.FromSingles(points, 600, 64);
        Assert.All(centroids.Offsets.ToArray(), offset => Assert.Equal(0, offset));
        var counts = new ScanCounts();
        var merges = CentroidWardChain.Run(centroids, Enumerable.Repeat(1L, 600).ToArray(), 1, counts: counts);
        Assert.InRange(counts.TopScans, 1, counts.Scans / 4);
        var matrix = HierarchicalClustering.Linkage(points, 600, 64, LinkageMethod.Ward);
        LinkageFixtures.AssertSameLinkage(matrix.ToLinkageArray(), MergeTree.FromUnsorted(merges), "two scales");
    }

    private static void AssertSameAsFullScan(Func<SplitFloatCentroids> make, long[] weights, string what)
    {
        var expected = FullScanChain(make(), weights);
        foreach (var threads in new[] { 1, 3 })
        {
            foreach (var threshold in new[] { CentroidWardChain.DefaultParallelScanThreshold, 1L })
            {
                var actual = CentroidWardChain.Run(make(), weights, threads, threshold);
                Assert.True(expected.First.AsSpan().SequenceEqual(actual.First) && expected.Second.AsSpan().SequenceEqual(actual.Second),
                    $"{what}, {threads} threads, split threshold {threshold}: other merges");
                Assert.True(expected.Heights.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(actual.Heights.Select(BitConverter.DoubleToInt64Bits)),
                    $"{what}, {threads} threads, split threshold {threshold}: other heights");
            }
        }
    }

    /// <summary>SciPy's nearest-neighbour chain with every scan an exact double scan of all live clusters.</summary>
    private static UnsortedMerges FullScanChain(SplitFloatCentroids centroids, long[] weights)
    {
        var count = centroids.Count;
        var dimension = centroids.Dimension;
        var size = (long[])weights.Clone();
        var alive = Enumerable.Repeat(true, count).ToArray();
        var merges = new UnsortedMerges(count);
        var chain = new int[count];
        var length = 0;
        var scratch = new double[dimension];
        var merged = new double[dimension];
        double Ward(int a, int b) => 2.0 * ((double)size[a] * size[b] / ((double)size[a] + size[b])) * centroids.SquaredDistance(a, b);
        (double Value, int Index) Nearest(int x)
        {
            var best = double.PositiveInfinity;
            var index = -1;
            for (var j = 0; j < count; j++)
            {
                if (alive[j] && j != x && Ward(x, j) < best)
                {
                    best = Ward(x, j);
                    index = j;
                }
            }
            return (best, index);
        }
        for (var k = 0; k < count - 1; k++)
        {
            if (length == 0)
            {
                chain[0] = Array.IndexOf(alive, true);
                length = 1;
            }
            int x, y;
            double nearest;
            while (true)
            {
                x = chain[length - 1];
                (nearest, y) = Nearest(x);
                if (length > 1)
                {
                    var previous = chain[length - 2];
                    var toPrevious = Ward(x, previous);
                    if (!(y >= 0 && nearest < toPrevious))
                    {
                        (nearest, y) = (toPrevious, previous);
                        break;
                    }
                }
                chain[length++] = y;
            }
            length -= 2;
            if (x > y)
            {
                (x, y) = (y, x);
            }
            merges.Add(x, y, Math.Sqrt(nearest));
            centroids.Merge(x, y, size[x], size[y], scratch, merged);
            size[y] += size[x];
            size[x] = 0;
            alive[x] = false;
        }
        return merges;
    }

    private static float[] Make(string kind, int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var points = new float[count * dimension];
        float Uniform() => (float)(random.NextDouble() * 2 - 1);
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = kind switch
            {
                "gauss" => Uniform(),
                "offset1e4" => 1e4f + Uniform(),
                "two-scales" => (i / dimension % 2 == 0 ? 1000f : 2500f) + 0.01f * Uniform(),
                "subnormal" => BitConverter.Int32BitsToSingle(random.Next(0, 1 << 23)) * (random.Next(2) == 0 ? 1 : -1),
                "nearmax" => (i % 2 == 0 ? 3.0e38f : -3.0e38f) * (1 - 1e-3f * (float)random.NextDouble()),
                "grid" => random.Next(-2, 3),
                "duplicates" => (i / dimension % 7) * 0.5f + i % dimension,
                "bf16" => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(100f + Uniform()) & 0xFFFF0000u),
                "ulp" => 1000f + (random.Next(3) - 1) * (MathF.BitIncrement(1000f) - 1000f),
                "signed-zero" => random.Next(3) switch { 0 => 0f, 1 => -0f, _ => random.Next(-1, 2) },
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown kind"),
            };
        }
        return points;
    }
}
