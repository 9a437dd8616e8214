using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class SemiSupervisedPatchScoresTests
{
    [Fact]
    public void MatchesTorchCdistAgainstTheNormalBank()
    {
        var bags = Bags("small");
        var bank = NormalBank.FromBags(Bags("small", "small_normal_bags.npy"));
        Assert.Equal(3 * 49, bank.PatchCount);
        var expected = Rows(Load("small_semisupervised.npy"));
        var all = SemiSupervisedPatchScores.Compute(bags, bank);
        for (var i = 0; i < bags.Count; i++)
        {
            AssertRelative(expected[i], all[i], 1e-5, $"image {i}");
            Assert.Equal(all[i], SemiSupervisedPatchScores.Compute(bags[i], bank));
        }
    }

    [Fact]
    public void RejectsABankOfAnotherDimension()
    {
        var random = new Random(3);
        var bank = NormalBank.FromBags([RandomBag(random, 2, 2, 5)]);
        Assert.Throws<InvalidClusteringInputException>(() => SemiSupervisedPatchScores.Compute(RandomBag(random, 2, 2, 6), bank));
        Assert.Throws<InvalidClusteringInputException>(() => SemiSupervisedPatchScores.Compute([RandomBag(random, 2, 2, 6)], bank));
    }
}
