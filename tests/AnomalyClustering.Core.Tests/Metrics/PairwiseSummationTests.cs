using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>The summation order copied from numpy.sum, which makes NMI round exactly as scikit-learn's.</summary>
public class PairwiseSummationTests
{
    [Fact]
    public void SumsBitForBitAsNumpy()
    {
        var orderMatters = false;
        foreach (var fixture in MetricsFixtures.AllPairwiseSums())
        {
            var n = fixture.GetProperty("n").GetInt32();
            var values = new double[n];
            for (long i = 0; i < n; i++)
            {
                // The formula of tools/fixtures/gen_metrics.py pairwise_sums(): every operation is exact or correctly rounded.
                values[i] = Math.ScaleB(((i * 7919) % 10007 - 5000) / 3.0, (int)(i % 41) - 20);
            }
            var expected = fixture.GetProperty("sum").GetDouble();
            Assert.Equal(expected, PairwiseSummation.Sum(values));

            var sequential = 0.0;
            foreach (var value in values)
            {
                sequential += value;
            }
            orderMatters |= sequential != expected;
        }
        // Otherwise the fixture would not tell pairwise from sequential summation.
        Assert.True(orderMatters);
    }
}
