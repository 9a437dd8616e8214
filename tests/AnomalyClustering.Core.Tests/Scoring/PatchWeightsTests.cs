using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class PatchWeightsTests
{
    [Theory]
    [InlineData("small_unsupervised.npy", "small_alpha.npy")]
    [InlineData("small_semisupervised.npy", "small_semisupervised_alpha.npy")]
    [InlineData("tiles_unsupervised.npy", "tiles_alpha.npy")]
    [InlineData("kblock_unsupervised.npy", "kblock_alpha.npy")]
    public void SoftmaxMatchesTorchForEveryTemperature(string scoresFile, string alphaFile)
    {
        var scores = Rows(Load(scoresFile));
        var alphaArray = Load(alphaFile);
        var taus = Taus;
        for (var tau = 0; tau < taus.Length; tau++)
        {
            var expected = Rows(alphaArray, tau);
            for (var i = 0; i < scores.Length; i++)
            {
                var actual = PatchWeights.Softmax(scores[i], taus[tau]);
                // Weights far below the largest one are compared relative to the largest (float32 output).
                AssertVectorRelative(expected[i], actual.Select(a => (double)a).ToArray(), 1e-5, $"tau {taus[tau]} image {i}");
                foreach (var (e, a) in expected[i].Zip(actual))
                {
                    Assert.True(Math.Abs(a - e) <= 1e-5 * e + 1e-30, $"tau {taus[tau]}: {a} vs {e}");
                }
                Assert.Equal(1.0, actual.Sum(a => (double)a), 1e-6);
            }
        }
    }

    [Fact]
    public void ZeroTemperatureIsOneHotOnTheLowestIndexOfTheHighestScore()
    {
        Assert.Equal([0f, 1f, 0f, 0f], PatchWeights.Softmax([1.0, 3.0, 3.0, 2.0], 0));
        Assert.Equal([1f, 0f], PatchWeights.Softmax([5.0, 5.0], 0));
    }

    [Fact]
    public void IsStableForHugeScoresAndSmallTemperatures()
    {
        var weights = PatchWeights.Softmax([1e6, 1e6 - 1, 0.0], 0.01);
        Assert.All(weights, w => Assert.True(float.IsFinite(w)));
        Assert.Equal(1f, weights[0], 6);
        Assert.Equal([1f / 3, 1f / 3, 1f / 3], PatchWeights.Softmax([1.0, 2.0, 3.0], double.PositiveInfinity));
    }

    [Fact]
    public void UniformIsOneOverM()
    {
        Assert.Equal(Enumerable.Repeat(1f / 784, 784), PatchWeights.Uniform(784));
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Uniform(0));
    }

    [Fact]
    public void RejectsNegativeOrNaNTemperatureAndBadScores()
    {
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Softmax([1.0, 2.0], -0.5));
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Softmax([1.0, 2.0], double.NaN));
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Softmax([1.0, double.NaN], 1));
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Softmax([], 1));
        Assert.Throws<InvalidClusteringInputException>(() => PatchWeights.Softmax([1.0, 2.0], 1, new float[3]));
    }
}
