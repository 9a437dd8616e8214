using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Exact Ward without a distance matrix: SciPy's merges and heights, the matrix path's tree, any thread count.</summary>
public class LinearMemoryWardTests
{
    /// <summary>
    /// Lattice cases with many exact ties: SciPy breaks them by the rounding of its Lance-Williams update, which no
    /// matrix-free method can reproduce (fastcluster's linkage_vector differs from SciPy on all four as well).
    /// </summary>
    private static readonly string[] LatticeTieCases = ["grid_6x6", "grid_4x4x4_shuffled", "ints_n300_d2", "ints_n500_d3"];

    public static TheoryData<string, int> CasesAndThreads()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in LinkageFixtures.CaseNames.Except(LatticeTieCases))
        {
            data.Add(name, 1);
            data.Add(name, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesAndThreads))]
    public void GivesScipysWardLinkage(string caseName, int threads)
    {
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var tree = LinearMemoryWard.Linkage(points, count, dimension, threads);
        Assert.Equal(count, tree.PointCount);
        LinkageFixtures.AssertSameLinkage(LinkageFixtures.ScipyLinkage(caseName, "ward"), tree, $"{caseName} ward, centroid chain, {threads} threads");
    }

    public static TheoryData<string> LatticeCases() => new(LatticeTieCases);

    [Theory]
    [MemberData(nameof(LatticeCases))]
    public void BreaksExactTiesTheSameWayOnAnyThreadCount(string caseName)
    {
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var one = LinearMemoryWard.Linkage(points, count, dimension, 1);
        var three = LinearMemoryWard.Linkage(points, count, dimension, 3);
        Assert.Equal(one.LinkageMatrix, three.LinkageMatrix);
        // The same with every scan split over three threads.
        var ones = Enumerable.Repeat(1L, count).ToArray();
        var split = MergeTree.FromUnsorted(CentroidWardChain.Run(SplitFloatCentroids.FromDoubles(points, count, dimension), ones, 3, parallelScanThreshold: 0));
        Assert.Equal(one.LinkageMatrix, split.LinkageMatrix);
        // Ties change which equal-height merge comes first, not that the root holds every point.
        Assert.Equal(count, one.LinkageMatrix[^1].Size);
    }

    [Theory]
    [InlineData(700, 5, 1)]
    [InlineData(1500, 32, 2)]
    [InlineData(3000, 64, 3)]
    [InlineData(1200, 130, 2)]
    [InlineData(1500, 256, 1)]
    public void EqualsTheMatrixPathOnRandomData(int count, int dimension, int threads)
    {
        var random = new Random(count + dimension);
        var points = new float[count * dimension];
        for (var i = 0; i < points.Length; i++)
        {
            // A mixture, so that heights spread over several scales.
            points[i] = (float)(random.NextDouble() * 2 - 1 + ((i / dimension) % 7) * 3);
        }
        var matrix = HierarchicalClustering.Linkage(points, count, dimension, LinkageMethod.Ward);
        var centroid = LinearMemoryWard.Linkage(points, count, dimension, threads);
        LinkageFixtures.AssertSameLinkage(matrix.ToLinkageArray(), centroid, $"random {count} x {dimension}");
        foreach (var k in new[] { 2, 7, 20 })
        {
            Assert.Equal(matrix.CutToClusters(k), centroid.CutToClusters(k));
        }
    }

    [Fact]
    public void DoublePointsGiveTheFloatPointsTree()
    {
        // Double input keeps a low row per point (the float scan's high + low path from the start).
        var (points, count, dimension) = Mixture(900, 64, seed: 5);
        var fromFloats = LinearMemoryWard.Linkage(points, count, dimension, 2);
        var fromDoubles = LinearMemoryWard.Linkage(points.Select(v => (double)v).ToArray(), count, dimension, 1);
        LinkageFixtures.AssertSameLinkage(fromFloats.ToLinkageArray(), fromDoubles, "double input");
    }

    [Theory]
    [InlineData(1e19f)]
    [InlineData(1e-19f)]
    public void HugeAndTinyValuesGiveTheScaledTree(float scale)
    {
        // 1e19: the float squares overflow and the scan falls back to double for every pair;
        // 1e-19: they underflow. Ward's tree scales with the data.
        var (points, count, dimension) = Mixture(300, 48, seed: 7);
        var scaled = points.Select(v => v * scale).ToArray();
        var expected = LinearMemoryWard.Linkage(scaled.Select(v => (double)v).ToArray(), count, dimension, 1);
        var tree = LinearMemoryWard.Linkage(scaled, count, dimension, 2);
        LinkageFixtures.AssertSameLinkage(expected.ToLinkageArray(), tree, $"scaled by {scale}");
        Assert.Equal(LinearMemoryWard.Linkage(points, count, dimension, 1).CutToClusters(6), tree.CutToClusters(6));
    }

    [Theory]
    [InlineData(1e4f, 40)]
    [InlineData(-3e3f, 256)]
    public void PointsFarFromTheOriginGiveTheMatrixPathTree(float offset, int dimension)
    {
        // The scans read the values' upper 16 bits, off by up to 1/128 of each value: here far more than the
        // distances between points, so nearly every row becomes a candidate and the exact distances decide.
        var (points, count, _) = Mixture(500, dimension, seed: 11);
        var shifted = points.Select(v => v + offset).ToArray();
        var matrix = HierarchicalClustering.Linkage(shifted, count, dimension, LinkageMethod.Ward);
        var centroid = LinearMemoryWard.Linkage(shifted, count, dimension, 2);
        LinkageFixtures.AssertSameLinkage(matrix.ToLinkageArray(), centroid, $"offset {offset}");
        Assert.Equal(LinearMemoryWard.Linkage(points, count, dimension, 1).CutToClusters(5), centroid.CutToClusters(5));
    }

    [Theory]
    [InlineData(700, 5)]
    [InlineData(1100, 40)]
    [InlineData(900, 256)]
    public void EveryScanSplitOverThreadsGivesTheOneThreadTree(int count, int dimension)
    {
        // Scans split only past a size no test reaches, so force every scan to split.
        var (points, _, _) = Mixture(count, dimension, seed: count);
        var ones = Enumerable.Repeat(1L, count).ToArray();
        var one = MergeTree.FromUnsorted(CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, count, dimension), ones, 1));
        foreach (var threads in new[] { 2, 3, 5 })
        {
            var split = MergeTree.FromUnsorted(CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, count, dimension), ones, threads, parallelScanThreshold: 0));
            Assert.Equal(one.LinkageMatrix, split.LinkageMatrix);
        }
    }

    [Fact]
    public void ScansThatReadMostRowsSplitOverThreadsAndGiveTheOneThreadTree()
    {
        // One isotropic blob: the projected bound skips few rows, so scans read most of them. Below the
        // live-values threshold (1,200 x 64 = 76,800 < 100,000) a scan still splits once the scan before
        // it read an eighth of the threshold in row values (196 rows of 64).
        const int count = 1200, dimension = 64;
        var random = new Random(7);
        var points = new float[count * dimension];
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var ones = Enumerable.Repeat(1L, count).ToArray();
        var oneCounts = new ScanCounts();
        var one = MergeTree.FromUnsorted(CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, count, dimension), ones, 1, 100_000, oneCounts));
        var twoCounts = new ScanCounts();
        var two = MergeTree.FromUnsorted(CentroidWardChain.Run(SplitFloatCentroids.FromSingles(points, count, dimension), ones, 2, 100_000, twoCounts));
        Assert.Equal(0, oneCounts.SplitScans);
        Assert.InRange(twoCounts.SplitScans, 1, twoCounts.Scans - 1);
        Assert.Equal(one.LinkageMatrix, two.LinkageMatrix);
    }

    private static (float[] Points, int Count, int Dimension) Mixture(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var points = new float[count * dimension];
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = (float)(random.NextDouble() * 2 - 1 + ((i / dimension) % 5) * 2);
        }
        return (points, count, dimension);
    }

    [Fact]
    public void WeightedCentroidsGiveTheTreeAboveTheirMembers()
    {
        // duplicates_n60 is 20 distinct points, each three times: Ward first joins the copies at height 0,
        // and everything above must equal Ward on the 20 points weighted 3 (heights scale as in SciPy).
        var (points, count, dimension) = LinkageFixtures.Points("duplicates_n60");
        var full = LinkageFixtures.ScipyLinkage("duplicates_n60", "ward");
        var distinct = new List<double[]>();
        for (var i = 0; i < count; i++)
        {
            var row = points.AsSpan(i * dimension, dimension).ToArray();
            if (!distinct.Any(d => d.AsSpan().SequenceEqual(row)))
            {
                distinct.Add(row);
            }
        }
        Assert.Equal(20, distinct.Count);
        var weights = Enumerable.Repeat(3L, distinct.Count).ToArray();
        var tree = LinearMemoryWard.WeightedLinkage(distinct.SelectMany(d => d).ToArray(), weights, distinct.Count, dimension, 2);

        var upperHeights = Enumerable.Range(0, full.GetLength(0)).Select(r => full[r, 2]).Where(h => h > 0).ToArray();
        Assert.Equal(upperHeights.Length, tree.LinkageMatrix.Count);
        for (var r = 0; r < upperHeights.Length; r++)
        {
            Assert.True(Math.Abs(tree.LinkageMatrix[r].Height - upperHeights[r]) <= 1e-9 * upperHeights[r], $"row {r}: {tree.LinkageMatrix[r].Height} vs {upperHeights[r]}");
        }
    }

    [Fact]
    public void BadInputIsRefusedWithATypedError()
    {
        Assert.Throws<InvalidClusteringInputException>(() => LinearMemoryWard.Linkage(new float[3], 1, 3, 1));
        Assert.Throws<InvalidClusteringInputException>(() => LinearMemoryWard.Linkage(new float[5], 2, 3, 1));
        Assert.Throws<InvalidClusteringInputException>(() => LinearMemoryWard.Linkage([0f, float.NaN, 1f, 2f], 2, 2, 1));
        Assert.Throws<InvalidClusteringInputException>(() => LinearMemoryWard.WeightedLinkage(new double[4], [1L, 0L], 2, 2, 1));
        Assert.Throws<InvalidClusteringInputException>(() => LinearMemoryWard.Linkage([0.0, 1e37, 1.0, 2.0], 2, 2, 1));
    }
}
