using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// Semi-supervised patch scores (METHOD section 2): s_ik = min over all patches t of the labelled normal
/// images of ||z_ik - t||_2, the distance to the nearest normal patch.
/// </summary>
public static class SemiSupervisedPatchScores
{
    /// <summary>Scores of one image against the normal bank. O(M P T) flops (P = bank patches), all processors.</summary>
    public static double[] Compute(PatchBag bag, NormalBank bank, int maxDegreeOfParallelism = -1)
    {
        ScoringInput.CheckBag(bag, nameof(bag));
        var scores = new double[bag.PatchCount];
        NearestPatchDistances.Compute(bag, bank, scores, maxDegreeOfParallelism);
        return scores;
    }

    /// <summary>Scores of every image against the normal bank, reusing one packed bank. O(N M P T) flops.</summary>
    public static double[][] Compute(IReadOnlyList<PatchBag> bags, NormalBank bank, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(bags);
        ArgumentNullException.ThrowIfNull(bank);
        ScoringInput.CheckBags(bags, bank.Dimension, nameof(bags));
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        var scores = new double[bags.Count][];
        for (var i = 0; i < bags.Count; i++)
        {
            scores[i] = new double[bags[i].PatchCount];
            runner.SetQuery(bags[i]);
            runner.Nearest(bank, scores[i]);
        }
        return scores;
    }
}
