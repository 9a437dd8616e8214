using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// Tie-heavy inputs (small integer coordinates, many duplicates) against a plain transliteration of
/// SciPy's algorithms: the optimised NN-chain (cached neighbours, SIMD scans) must break every tie
/// the same way.
/// </summary>
public class TieBreakingTests
{
    [Theory]
    [InlineData("grid_4x4x4_shuffled")]
    [InlineData("duplicates_n60")]
    [InlineData("ints_n300_d2")]
    [InlineData("rand_n200_d8")]
    public void TheTransliterationReproducesScipysFixtures(string caseName)
    {
        // Proves the reference below is faithful before it is trusted on inputs SciPy never saw.
        var (points, count, dimension) = LinkageFixtures.Points(caseName);
        var condensed = CondensedDistanceMatrix.FromPoints(points, count, dimension).Values;
        foreach (var method in LinkageFixtures.Methods)
        {
            var expected = LinkageFixtures.ScipyLinkage(caseName, method);
            var reference = ScipyReferenceLinkage.Linkage(condensed, count, LinkageFixtures.Method(method));
            Assert.Equal(expected, reference);
        }
    }

    [Fact]
    public void OptimisedLinkageEqualsTheTransliterationOnManyTiedInputs()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 300; trial++)
        {
            var count = random.Next(2, 70);
            var dimension = random.Next(1, 4);
            var levels = random.Next(2, 5);
            var points = new double[count * dimension];
            for (var i = 0; i < points.Length; i++)
            {
                points[i] = random.Next(levels);
            }
            var condensed = CondensedDistanceMatrix.FromPoints(points, count, dimension).Values;
            foreach (var method in Enum.GetValues<LinkageMethod>())
            {
                var expected = ScipyReferenceLinkage.Linkage(condensed, count, method);
                var actual = HierarchicalClustering.Linkage(CondensedDistanceMatrix.FromCondensed((double[])condensed.Clone()), method);
                Assert.True(expected.Cast<double>().SequenceEqual(actual.ToLinkageArray().Cast<double>()),
                    $"trial {trial}: N={count} D={dimension} levels={levels} {method}");
            }
        }
    }

    [Fact]
    public void OptimisedLinkageEqualsTheTransliterationAboveTheSimdWidth()
    {
        // Larger N so rows are long enough for the vectorised scan and the strided column path.
        var random = new Random(11);
        for (var trial = 0; trial < 6; trial++)
        {
            var count = random.Next(150, 400);
            var points = new double[count * 2];
            for (var i = 0; i < points.Length; i++)
            {
                points[i] = random.Next(6);
            }
            var condensed = CondensedDistanceMatrix.FromPoints(points, count, 2).Values;
            foreach (var method in Enum.GetValues<LinkageMethod>())
            {
                var expected = ScipyReferenceLinkage.Linkage(condensed, count, method);
                var actual = HierarchicalClustering.Linkage(CondensedDistanceMatrix.FromCondensed((double[])condensed.Clone()), method);
                Assert.True(expected.Cast<double>().SequenceEqual(actual.ToLinkageArray().Cast<double>()),
                    $"trial {trial}: N={count} {method}");
            }
        }
    }
}
