using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>The CPU assignment step of the micro-clusters' k-means, against a plain double-precision search.</summary>
public sealed class SimdCentreAssignmentTests
{
    [Theory]
    [InlineData(1001, 37, 23, 1)]
    [InlineData(1001, 37, 23, 2)]
    [InlineData(3, 8, 1, 2)]
    public void ChoosesTheNearestCentre(int count, int dimension, int centreCount, int threads)
    {
        var random = new Random(count + dimension);
        var points = RandomValues(random, count * dimension);
        var centres = RandomValues(random, centreCount * dimension);
        var assignment = new int[count];
        new SimdCentreAssignment(threads).Assign(points, count, dimension, centres, centreCount, assignment);
        // Random data has no near ties at this size: the float kernel must find the double search's nearest exactly.
        Assert.Equal(NearestInDouble(points, count, dimension, centres, centreCount), assignment);
    }

    [Fact]
    public void TiesGoToTheLowerCentre()
    {
        float[] centres = [1, 1, 5, 5, 1, 1, 5, 5];
        float[] points = [1, 1, 5, 5, 3, 3, 1, 1, 5, 5];
        var assignment = new int[5];
        new SimdCentreAssignment(1).Assign(points, 5, 2, centres, 4, assignment);
        Assert.Equal([0, 1, 0, 0, 1], assignment);
    }

    [Fact]
    public void RefusesMismatchedShapes()
    {
        var kernel = new SimdCentreAssignment(1);
        Assert.Throws<ArgumentException>(() => kernel.Assign(new float[10], 5, 2, new float[3], 2, new int[5]));
        Assert.Throws<ArgumentException>(() => kernel.Assign(new float[10], 5, 2, new float[4], 2, new int[4]));
        Assert.Throws<ArgumentException>(() => kernel.Assign(new float[10], 5, 2, [], 0, new int[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimdCentreAssignment(0));
    }

    [Fact]
    public void TwoStageWardNamesAnAssignmentStepItWasGiven()
    {
        var random = new Random(9);
        var points = RandomValues(random, 400 * 4);
        var named = TwoStageWard.Run(points, 400, 4, 20, seed: 0, maxDegreeOfParallelism: 1, "test", new SimdCentreAssignment(1));
        var plain = TwoStageWard.Run(points, 400, 4, 20, seed: 0, maxDegreeOfParallelism: 1, "test");
        Assert.Equal("test; k-means assignment: SIMD kernel, 1 thread", named.Reason);
        Assert.Equal("test", plain.Reason);
        Assert.Equal(plain.LeafOfPoint, named.LeafOfPoint);
    }

    internal static int[] NearestInDouble(float[] points, int count, int dimension, float[] centres, int centreCount)
    {
        var nearest = new int[count];
        for (var i = 0; i < count; i++)
        {
            var best = double.PositiveInfinity;
            for (var c = 0; c < centreCount; c++)
            {
                var d2 = 0.0;
                for (var k = 0; k < dimension; k++)
                {
                    var d = (double)points[i * dimension + k] - centres[c * dimension + k];
                    d2 += d * d;
                }
                if (d2 < best)
                {
                    (best, nearest[i]) = (d2, c);
                }
            }
        }
        return nearest;
    }

    private static float[] RandomValues(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
}
