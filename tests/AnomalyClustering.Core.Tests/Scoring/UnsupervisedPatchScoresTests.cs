using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class UnsupervisedPatchScoresTests
{
    [Theory]
    [InlineData("small")]
    [InlineData("tiles")]
    [InlineData("kblock")]
    public void ExactMatchesTorchCdistInFloat64(string caseName)
    {
        var expected = Rows(Load($"{caseName}_unsupervised.npy"));
        var actual = UnsupervisedPatchScores.Exact(Bags(caseName));
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            AssertRelative(expected[i], actual[i], 1e-5, $"{caseName} image {i}");
        }
    }

    [Fact]
    public void ExactGivesTheSameBitsForAnyDegreeOfParallelism()
    {
        var bags = Bags("small");
        var one = UnsupervisedPatchScores.Exact(bags, 1);
        Assert.Equal(one, UnsupervisedPatchScores.Exact(bags, 2));
        Assert.Equal(one, UnsupervisedPatchScores.Exact(bags, 3));
    }

    [Fact]
    public void SampledWithAllOtherImagesIsExact()
    {
        var bags = Bags("small");
        var exact = UnsupervisedPatchScores.Exact(bags);
        Assert.Equal(exact, UnsupervisedPatchScores.Sampled(bags, bags.Count - 1, seed: 99));
        Assert.Equal(exact, UnsupervisedPatchScores.Sampled(bags, 0, seed: 99));
        Assert.Equal(exact, UnsupervisedPatchScores.Sampled(bags, 1000, seed: 5));
        // The per-image path (what a distributed worker runs) with every other image as reference gives the same bits
        // as the symmetric all-pairs path: same products, same ties, same summation order.
        Assert.Equal(exact, UnsupervisedPatchScores.FromSample(bags, ReferenceSample.Draw(bags.Count, bags.Count - 1, 3)));
    }

    [Fact]
    public void SampledMatchesTorchOnTheDocumentedPool()
    {
        var sampled = ScoringFixtures.Meta.GetProperty("sampled");
        var references = sampled.GetProperty("references").GetInt32();
        var seed = sampled.GetProperty("seed").GetUInt64();
        var bags = Bags("small");
        Assert.Equal(sampled.GetProperty("pool").EnumerateArray().Select(p => p.GetInt32()), ReferenceSample.Draw(bags.Count, references, seed).Pool);
        var expected = Rows(Load("small_sampled_r2_seed7.npy"));
        var actual = UnsupervisedPatchScores.Sampled(bags, references, seed);
        for (var i = 0; i < expected.Length; i++)
        {
            AssertRelative(expected[i], actual[i], 1e-5, $"image {i}");
        }
    }

    [Fact]
    public void SampledAveragesTheNearestDistancesToEachImagesReferences()
    {
        var random = new Random(4);
        var bags = Enumerable.Range(0, 9).Select(i => RandomBag(random, 3 + i % 2, 5, 20)).ToList();
        const int References = 3;
        var sample = ReferenceSample.Draw(bags.Count, References, 1234);
        var actual = UnsupervisedPatchScores.Sampled(bags, References, 1234);
        for (var i = 0; i < bags.Count; i++)
        {
            var refs = sample.ReferencesFor(i);
            Assert.Equal(References, refs.Length);
            Assert.DoesNotContain(i, refs);
            var expected = new double[bags[i].PatchCount];
            foreach (var j in refs)
            {
                var nearest = BruteNearest(bags[i], bags[j]);
                for (var k = 0; k < expected.Length; k++)
                {
                    expected[k] += nearest[k] / References;
                }
            }
            AssertRelative(expected, actual[i], 1e-12, $"image {i}");
        }
    }

    [Fact]
    public void ExactHandlesBagsWithDifferentPatchCounts()
    {
        var random = new Random(6);
        var bags = new List<PatchBag> { RandomBag(random, 3, 4, 17), RandomBag(random, 5, 5, 17), RandomBag(random, 2, 9, 17) };
        var actual = UnsupervisedPatchScores.Exact(bags);
        for (var i = 0; i < bags.Count; i++)
        {
            var expected = new double[bags[i].PatchCount];
            for (var j = 0; j < bags.Count; j++)
            {
                if (j != i)
                {
                    var nearest = BruteNearest(bags[i], bags[j]);
                    for (var k = 0; k < expected.Length; k++)
                    {
                        expected[k] += nearest[k] / 2;
                    }
                }
            }
            AssertRelative(expected, actual[i], 1e-12, $"image {i}");
        }
    }

    [Fact]
    public void ForImageIsTheMeanOverTheGivenReferences()
    {
        var bags = Bags("small");
        var scores = new double[bags[0].PatchCount];
        UnsupervisedPatchScores.ForImage(bags[0], bags.Skip(1).ToList(), scores);
        Assert.Equal(UnsupervisedPatchScores.Exact(bags)[0], scores);
    }

    [Fact]
    public void RejectsTooFewImagesMixedDimensionsAndNonFiniteValues()
    {
        var random = new Random(2);
        var bag = RandomBag(random, 2, 2, 4);
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.Exact([bag]));
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.Sampled([bag], 1, 0));
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.Exact([bag, RandomBag(random, 2, 2, 5)]));
        var poisoned = RandomBag(random, 2, 2, 4);
        poisoned.Data[0] = float.NegativeInfinity;
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.Exact([bag, poisoned]));
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.Sampled([bag, bag], -1, 0));
        Assert.Throws<InvalidClusteringInputException>(() => UnsupervisedPatchScores.ForImage(bag, [], new double[4]));
    }
}
