using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class NormalBankCoresetTests
{
    // The documented algorithm in double precision, without projection: starting points are the first 10 entries of the
    // seeded partial Fisher-Yates shuffle (the same drawing as ReferenceSample's pool of 10 = 9 + 1); each step keeps the
    // patch farthest from everything kept (lowest index on ties) and lowers every value to its distance to it.
    private static List<int> PlainGreedyKCentre(IReadOnlyList<float[]> points, int size, ulong seed)
    {
        var starts = ReferenceSample.Draw(points.Count, 9, seed).Pool;
        double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => ((double)p.First - p.Second) * ((double)p.First - p.Second)));
        var value = points.Select(p => starts.Average(s => Distance(p, points[s]))).ToArray();
        var expected = new List<int>();
        for (var s = 0; s < size; s++)
        {
            var chosen = Array.IndexOf(value, value.Max());
            expected.Add(chosen);
            for (var i = 0; i < points.Count; i++)
            {
                value[i] = Math.Min(value[i], Distance(points[i], points[chosen]));
            }
        }
        return expected;
    }

    [Fact]
    public void WithoutProjectionEqualsAStraightforwardGreedyKCentre()
    {
        var random = new Random(12);
        var bags = Enumerable.Range(0, 4).Select(_ => RandomBag(random, 5, 10, 8)).ToList();
        var points = bags.SelectMany(b => Enumerable.Range(0, b.PatchCount).Select(k => b.Patch(k).ToArray())).ToList();
        const int Size = 25;
        const ulong Seed = 31;
        var actual = NormalBankCoreset.SelectIndices(bags, Size, Seed, startingPoints: 10);

        Assert.Equal(PlainGreedyKCentre(points, Size, Seed), actual);
    }

    [Fact]
    public void ALongSelectionOnClusteredPatchesEqualsAStraightforwardGreedyKCentre()
    {
        // 40 clusters of 60 patches in 12 dimensions, 400 kept: most patches are skipped by the triangle inequality once
        // every cluster has a kept patch, and the selection must still be the plain loop's, patch for patch.
        const int Dimension = 12;
        var random = new Random(21);
        var centres = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, Dimension).Select(_ => 20 * random.NextDouble()).ToArray()).ToArray();
        var points = Enumerable.Range(0, 2400).Select(i => centres[i % 40].Select(c => (float)(c + random.NextDouble() - 0.5)).ToArray()).ToList();
        var bags = Enumerable.Range(0, 4).Select(b => new PatchBag(points.Skip(b * 600).Take(600).SelectMany(p => p).ToArray(), 20, 30, Dimension)).ToList();
        const int Size = 400;
        const ulong Seed = 5;
        var actual = NormalBankCoreset.SelectIndices(bags, Size, Seed, maxDegreeOfParallelism: 2);

        Assert.Equal(PlainGreedyKCentre(points, Size, Seed), actual);
    }

    [Fact]
    public void ProjectedSelectionIsDeterministicAndReachesEverySmallCluster()
    {
        // 12 well separated clusters in 300 dimensions: one of 170 patches and 11 of 2 patches each.
        // A random 40-subset misses most small clusters; the k-centre coreset must keep one of every cluster.
        const int Dimension = 300;
        var random = new Random(4);
        var centres = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, Dimension).Select(_ => 10f * (float)random.NextDouble()).ToArray()).ToArray();
        var cluster = Enumerable.Repeat(0, 170).Concat(Enumerable.Range(1, 11).SelectMany(c => new[] { c, c })).ToArray();
        var data = cluster.SelectMany(c => centres[c].Select(x => x + 0.05f * (float)(random.NextDouble() - 0.5))).ToArray();
        var bags = new List<PatchBag>
        {
            new(data[..(96 * Dimension)], 8, 12, Dimension),
            new(data[(96 * Dimension)..], 8, 12, Dimension),
        };
        var one = NormalBankCoreset.SelectIndices(bags, 40, 9, projectionDimension: 32, maxDegreeOfParallelism: 1);
        Assert.Equal(one, NormalBankCoreset.SelectIndices(bags, 40, 9, projectionDimension: 32, maxDegreeOfParallelism: 3));
        Assert.Equal(40, one.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 12), one.Select(i => cluster[i]).Distinct().Order());
        Assert.NotEqual(one, NormalBankCoreset.SelectIndices(bags, 40, 10, projectionDimension: 32));
    }

    [Fact]
    public void BuildKeepsTheFractionOfPatches()
    {
        var random = new Random(5);
        var bags = Enumerable.Range(0, 2).Select(_ => RandomBag(random, 10, 10, 16)).ToList();
        var bank = NormalBankCoreset.Build(bags, 0.1, 1);
        Assert.Equal(20, bank.PatchCount);
        var indices = NormalBankCoreset.SelectIndices(bags, 20, 1);
        var patch = new float[16];
        bank.CopyPatch(3, patch);
        Assert.Equal(bags[indices[3] / 100].Patch(indices[3] % 100).ToArray(), patch);
    }

    [Fact]
    public void RejectsBadSizesAndFractions()
    {
        var bags = new List<PatchBag> { RandomBag(new Random(1), 2, 2, 4) };
        Assert.Throws<InvalidClusteringInputException>(() => NormalBankCoreset.SelectIndices(bags, 0, 1));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBankCoreset.SelectIndices(bags, 5, 1));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBankCoreset.Build(bags, 0, 1));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBankCoreset.Build(bags, double.NaN, 1));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBankCoreset.SelectIndices([], 1, 1));
    }

    [Fact]
    public void SelectRecordsTheImageOfEveryKeptPatchAndTheBankWithoutOneImageDropsExactlyItsPatches()
    {
        var random = new Random(6);
        // Bags of different sizes, so that an owner found from a wrong offset would show.
        var bags = new List<PatchBag> { RandomBag(random, 3, 5, 8), RandomBag(random, 4, 4, 8), RandomBag(random, 2, 3, 8) };
        var coreset = NormalBankCoreset.Select(bags, 0.5, 7);
        var indices = NormalBankCoreset.SelectIndices(bags, (15 + 16 + 6) / 2, 7);
        Assert.Equal(indices.Length, coreset.PatchCount);
        int[] firstPatch = [0, 15, 31];
        var owners = indices.Select(index => firstPatch.Count(first => first <= index) - 1).ToArray();
        Assert.Equal(owners, Enumerable.Range(0, coreset.PatchCount).Select(coreset.OwnerOf));
        Assert.Equal(3, owners.Distinct().Count());

        var full = coreset.ToBank();
        var patch = new float[8];
        for (var i = 0; i < indices.Length; i++)
        {
            full.CopyPatch(i, patch);
            Assert.Equal(bags[owners[i]].Patch(indices[i] - firstPatch[owners[i]]).ToArray(), patch);
        }
        var without = coreset.ToBankWithout(1);
        Assert.Equal(owners.Count(owner => owner != 1), without.PatchCount);
        var kept = Enumerable.Range(0, indices.Length).Where(i => owners[i] != 1).ToArray();
        for (var j = 0; j < kept.Length; j++)
        {
            without.CopyPatch(j, patch);
            Assert.Equal(bags[owners[kept[j]]].Patch(indices[kept[j]] - firstPatch[owners[kept[j]]]).ToArray(), patch);
        }
    }

    [Fact]
    public void LeaveOneOutScoreWithACoresetIsTheLargestNearestDistanceToTheOtherImagesKeptPatches()
    {
        var random = new Random(8);
        var bags = Enumerable.Range(0, 4).Select(_ => RandomBag(random, 3, 3, 6)).ToList();
        var coreset = NormalBankCoreset.Select(bags, 0.3, 2);
        var others = Enumerable.Range(0, coreset.PatchCount).Where(i => coreset.OwnerOf(i) != 2).ToArray();
        var bank = coreset.ToBank();
        var candidates = others.Select(i =>
        {
            var row = new float[6];
            bank.CopyPatch(i, row);
            return row;
        }).ToList();
        double Distance(ReadOnlySpan<float> a, float[] b)
        {
            var sum = 0.0;
            for (var t = 0; t < b.Length; t++)
            {
                sum += ((double)a[t] - b[t]) * ((double)a[t] - b[t]);
            }
            return Math.Sqrt(sum);
        }
        var expected = Enumerable.Range(0, bags[2].PatchCount).Max(k => candidates.Min(c => Distance(bags[2].Patch(k), c)));
        Assert.Equal(expected, DetectionThreshold.LeaveOneOutScore(coreset, bags[2], 2), 4);
        // Against the whole bank (its own patches included) the score would be smaller: the own patches are really left out.
        Assert.True(expected > Enumerable.Range(0, bags[2].PatchCount).Max(k => SemiSupervisedPatchScores.Compute(bags[2], bank)[k]));
    }

    [Fact]
    public void ACoresetOfOneImagesPatchesCannotScoreThatImageLeaveOneOut()
    {
        var bags = new List<PatchBag> { RandomBag(new Random(3), 2, 2, 4) };
        var coreset = NormalBankCoreset.Select(bags, 1, 1);
        Assert.Throws<InvalidClusteringInputException>(() => coreset.ToBankWithout(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => coreset.ToBankWithout(1));
    }
}
