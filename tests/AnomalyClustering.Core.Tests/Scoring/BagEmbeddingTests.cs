using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class BagEmbeddingTests
{
    [Theory]
    [InlineData("small")]
    [InlineData("tiles")]
    [InlineData("kblock")]
    public void WeightedSumMatchesTorchForTorchsAlpha(string caseName)
    {
        var bags = Bags(caseName);
        var alpha = Load($"{caseName}_alpha.npy");
        var embedding = Load($"{caseName}_embedding.npy");
        for (var tau = 0; tau < Taus.Length; tau++)
        {
            var weights = Rows(alpha, tau);
            var expected = Rows(embedding, tau);
            for (var i = 0; i < bags.Count; i++)
            {
                var actual = BagEmbedding.Compute(bags[i], weights[i].Select(w => (float)w).ToArray());
                AssertVectorRelative(expected[i], actual.Select(x => (double)x).ToArray(), 1e-5, $"{caseName} tau {Taus[tau]} image {i}");
            }
        }
    }

    [Theory]
    [InlineData("small")]
    [InlineData("tiles")]
    [InlineData("kblock")]
    public void ScoresToWeightsToEmbeddingsMatchTorchEndToEnd(string caseName)
    {
        var bags = Bags(caseName);
        var scores = UnsupervisedPatchScores.Exact(bags);
        var embedding = Load($"{caseName}_embedding.npy");
        for (var tau = 0; tau < Taus.Length; tau++)
        {
            var expected = Rows(embedding, tau);
            for (var i = 0; i < bags.Count; i++)
            {
                var actual = BagEmbedding.Compute(bags[i], PatchWeights.Softmax(scores[i], Taus[tau]));
                AssertVectorRelative(expected[i], actual.Select(x => (double)x).ToArray(), 1e-5, $"{caseName} tau {Taus[tau]} image {i}");
            }
        }
    }

    [Fact]
    public void UniformWeightsGiveThePatchMean()
    {
        var bag = RandomBag(new Random(9), 3, 5, 13);
        var actual = BagEmbedding.Compute(bag, PatchWeights.Uniform(bag.PatchCount));
        for (var t = 0; t < bag.Dimension; t++)
        {
            var mean = Enumerable.Range(0, bag.PatchCount).Average(k => (double)bag.Patch(k)[t]);
            Assert.Equal(mean, actual[t], 1e-6);
        }
    }

    [Fact]
    public void RejectsAlphaOfTheWrongLengthOrNonFinite()
    {
        var bag = RandomBag(new Random(9), 2, 2, 3);
        Assert.Throws<InvalidClusteringInputException>(() => BagEmbedding.Compute(bag, new float[3]));
        Assert.Throws<InvalidClusteringInputException>(() => BagEmbedding.Compute(bag, [0.5f, float.NaN, 0.25f, 0.25f]));
        Assert.Throws<InvalidClusteringInputException>(() => BagEmbedding.Compute(bag, new float[4], new float[2]));
    }
}
