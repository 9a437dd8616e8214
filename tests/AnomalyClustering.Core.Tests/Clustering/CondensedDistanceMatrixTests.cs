using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>Distances equal to scipy.spatial.distance.pdist bit for bit, and bad input rejected.</summary>
public class CondensedDistanceMatrixTests
{
    [Fact]
    public void EuclideanDistancesEqualScipyPdistBitForBit()
    {
        var x = LinkageFixtures.Npy("pdist_x.npy");
        var expected = LinkageFixtures.Npy("pdist_d.npy").ToDoubles();
        var fromDoubles = CondensedDistanceMatrix.FromPoints(x.ToDoubles(), x.Shape[0], x.Shape[1]);
        var fromSingles = CondensedDistanceMatrix.FromPoints(x.ToSingles(), x.Shape[0], x.Shape[1]);
        Assert.Equal(expected.Length, fromDoubles.Values.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(fromDoubles.Values[i]),
                $"pair {i}: scipy {expected[i]:R}, ours {fromDoubles.Values[i]:R}");
        }
        Assert.Equal(fromDoubles.Values, fromSingles.Values);
    }

    [Fact]
    public void IndexerIsSymmetricWithZeroDiagonal()
    {
        var m = CondensedDistanceMatrix.FromPoints([0.0, 0.0, 3.0, 4.0, 6.0, 8.0], 3, 2);
        Assert.Equal(3, m.PointCount);
        Assert.Equal([5.0, 10.0, 5.0], m.Values);
        Assert.Equal(10.0, m[2, 0]);
        Assert.Equal(10.0, m[0, 2]);
        Assert.Equal(5.0, m[2, 1]);
        Assert.Equal(0.0, m[1, 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[3, 0]);
    }

    [Fact]
    public void FromCondensedInfersTheNumberOfPoints()
    {
        var m = CondensedDistanceMatrix.FromCondensed([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        Assert.Equal(4, m.PointCount);
        Assert.Equal(6.0, m[3, 2]);
        Assert.Equal(3.0, m[3, 0]);
    }

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new[] { 1.0, 2.0 })]
    [InlineData(new[] { 1.0, 2.0, 3.0, 4.0 })]
    public void FromCondensedRejectsLengthsThatAreNotTriangular(double[] values)
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromCondensed(values));
        Assert.Contains("N(N-1)/2", error.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-1.0)]
    [InlineData(1e200)]
    public void FromCondensedRejectsDistancesThatAreNotFiniteNonNegative(double bad)
    {
        // Long enough for the vectorised check, with the bad value past the first vectors.
        var values = Enumerable.Range(1, 45).Select(i => (double)i).ToArray();
        values[37] = bad;
        var error = Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromCondensed(values));
        Assert.Contains("index 37", error.Message);
    }

    [Fact]
    public void FromPointsRejectsShapeMismatchTooFewPointsAndNonFiniteValues()
    {
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints(new float[5], 2, 3));
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints(new float[3], 1, 3));
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints(new double[4], 2, 0));
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints([0f, float.NaN], 2, 1));
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints([0.0, double.PositiveInfinity], 2, 1));
        Assert.Throws<InvalidClusteringInputException>(() => CondensedDistanceMatrix.FromPoints([0.0, 1e300], 2, 1));
    }

    [Fact]
    public void LinkageRejectsBadInputWithTypedErrors()
    {
        Assert.Throws<InvalidClusteringInputException>(() => HierarchicalClustering.Linkage(new float[6], 2, 2, LinkageMethod.Ward));
        Assert.Throws<InvalidClusteringInputException>(() => HierarchicalClustering.Linkage([0f], 1, 1, LinkageMethod.Single));
        Assert.Throws<InvalidClusteringInputException>(() => HierarchicalClustering.Linkage([0f, 1f], 2, 1, (LinkageMethod)42));
        Assert.Throws<InvalidClusteringInputException>(() => MergeTree.FromLinkageArray(new double[1, 3]));
        Assert.Throws<InvalidClusteringInputException>(() => MergeTree.FromLinkageArray(new double[,] { { 0, 0, 1, 2 } }));
        Assert.Throws<InvalidClusteringInputException>(() => MergeTree.FromLinkageArray(new double[,] { { 0, 1, 1, 3 } }));
    }
}
