using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using static AnomalyClustering.Core.Tests.Scoring.ScoringFixtures;

namespace AnomalyClustering.Core.Tests.Scoring;

public class NearestPatchDistancesTests
{
    // Shapes around every blocking edge: panels of 6 and 16 rows, tiles of 96 x 256, k blocks of 256, 8-float SIMD tails.
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 1 },
        { 1, 5, 2, 3, 7 },
        { 7, 7, 5, 5, 32 },
        { 10, 10, 17, 1, 257 },
        { 9, 11, 19, 14, 9 },
        { 17, 17, 3, 5, 513 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesDirectDifferencesOnEveryBlockingEdge(int queryHeight, int queryWidth, int referenceHeight, int referenceWidth, int dimension)
    {
        var random = new Random(queryHeight * 1000 + dimension);
        var query = RandomBag(random, queryHeight, queryWidth, dimension);
        var reference = RandomBag(random, referenceHeight, referenceWidth, dimension);
        var expected = BruteNearest(query, reference);
        AssertRelative(expected, NearestPatchDistances.Compute(query, reference), 1e-12, "fast");
        var portable = new double[query.PatchCount];
        var runner = new NearestPatchRunner(1, allowFastKernel: false);
        runner.SetQuery(query);
        runner.Nearest(reference, portable);
        AssertRelative(expected, portable, 1e-12, "portable");
    }

    [Fact]
    public void GivesIdenticalBitsForAnyDegreeOfParallelism()
    {
        var random = new Random(5);
        var query = RandomBag(random, 23, 11, 70);
        var reference = RandomBag(random, 13, 29, 70);
        var one = NearestPatchDistances.Compute(query, reference, maxDegreeOfParallelism: 1);
        Assert.Equal(one, NearestPatchDistances.Compute(query, reference, maxDegreeOfParallelism: 2));
        Assert.Equal(one, NearestPatchDistances.Compute(query, reference, maxDegreeOfParallelism: 7));
    }

    [Fact]
    public void WholeReferencesPerWorkerGiveTheSameBitsAsSharedReferences()
    {
        // 9 references: with 1 worker all are shared, with 2 or 4 each worker takes whole references.
        var random = new Random(15);
        var query = RandomBag(random, 9, 7, 45);
        var references = Enumerable.Range(0, 9).Select(i => RandomBag(random, 4 + i % 3, 6, 45)).ToList();
        double[] Sums(int threads)
        {
            var sums = new double[query.PatchCount];
            NearestPatchDistances.Accumulate(query, references, sums, threads);
            return sums;
        }
        var one = Sums(1);
        Assert.Equal(one, Sums(2));
        Assert.Equal(one, Sums(4));
        var expected = new double[query.PatchCount];
        foreach (var reference in references)
        {
            var nearest = BruteNearest(query, reference);
            for (var k = 0; k < expected.Length; k++)
            {
                expected[k] += nearest[k];
            }
        }
        AssertRelative(expected, one, 1e-12, "sums");
    }

    [Fact]
    public void ReportsTheFirstBadReferenceWhateverTheScheduling()
    {
        var random = new Random(16);
        var query = RandomBag(random, 3, 3, 16);
        var references = Enumerable.Range(0, 8).Select(_ => RandomBag(random, 3, 3, 16)).ToList();
        references[3].Data[7] = float.NaN;
        references[6].Data[2] = float.PositiveInfinity;
        var sums = new double[query.PatchCount];
        var error = Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Accumulate(query, references, sums, 2));
        Assert.Contains("references[3]", error.Message);
        Assert.All(sums, s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void BothWaysFromOneProductEqualsTwoSeparateSearches()
    {
        var random = new Random(11);
        var a = RandomBag(random, 19, 13, 40);
        var b = RandomBag(random, 11, 9, 40);
        var runner = new NearestPatchRunner(2);
        runner.SetQuery(a);
        runner.NearestToEach([b], 0, 1, columns: true);
        Assert.Equal(NearestPatchDistances.Compute(a, b), runner.RowResult(0));
        Assert.Equal(NearestPatchDistances.Compute(b, a), runner.ColumnResult(0));
        AssertRelative(BruteNearest(b, a), runner.ColumnResult(0), 1e-12, "columns");
    }

    [Fact]
    public void StaysExactWhenPatchesNearlyCoincide()
    {
        // Large common offset, tiny differences: |a|^2 + |b|^2 - 2ab cancels catastrophically in float32;
        // the exact recomputation must still give the true distances.
        var random = new Random(3);
        const int Dimension = 64;
        var offset = Enumerable.Range(0, Dimension).Select(_ => 100f * (float)random.NextDouble()).ToArray();
        PatchBag Near(int height, int width)
        {
            var data = new float[height * width * Dimension];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = offset[i % Dimension] + 0.01f * (float)(random.NextDouble() - 0.5);
            }
            return new PatchBag(data, height, width, Dimension);
        }
        var query = Near(4, 5);
        var reference = Near(6, 7);
        var expected = BruteNearest(query, reference);
        var actual = NearestPatchDistances.Compute(query, reference);
        // The float32 GEMM identity may pick a runner-up within its rounding (about 1e-6 |a|^2 here),
        // never a patch farther than that; the distance itself is exact.
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.InRange(actual[k], expected[k], Math.Sqrt(expected[k] * expected[k] + 1e-6 * 100 * 100 * Dimension));
        }
    }

    [Fact]
    public void AccumulateAddsOneNearestDistancePerReference()
    {
        var random = new Random(8);
        var query = RandomBag(random, 5, 6, 24);
        var references = Enumerable.Range(0, 3).Select(_ => RandomBag(random, 4, 7, 24)).ToList();
        var sums = Enumerable.Repeat(1.0, query.PatchCount).ToArray();
        NearestPatchDistances.Accumulate(query, references, sums);
        var expected = new double[query.PatchCount];
        for (var k = 0; k < expected.Length; k++)
        {
            expected[k] = 1.0 + references.Sum(r => BruteNearest(query, r)[k]);
        }
        AssertRelative(expected, sums, 1e-12, "sums");
    }

    [Fact]
    public void AccumulateRejectsANonFiniteOrOverflowingReferenceAndLeavesTheSumsAlone()
    {
        var random = new Random(8);
        var query = RandomBag(random, 3, 3, 16);
        var good = RandomBag(random, 3, 3, 16);
        var poisoned = RandomBag(random, 3, 3, 16);
        poisoned.Data[20] = float.NaN;
        var sums = new double[query.PatchCount];
        var error = Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Accumulate(query, [good, poisoned], sums));
        Assert.Contains("references[1]", error.Message);
        Assert.All(sums, s => Assert.Equal(0.0, s));
        poisoned.Data[20] = 1e30f;
        error = Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Accumulate(query, [good, poisoned], sums));
        Assert.Contains("overflow", error.Message);
        Assert.All(sums, s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void BankSearchEqualsSearchOverTheConcatenatedPatches()
    {
        var random = new Random(21);
        var query = RandomBag(random, 6, 6, 33);
        var normals = Enumerable.Range(0, 3).Select(_ => RandomBag(random, 5, 7, 33)).ToList();
        var concatenated = new PatchBag(normals.SelectMany(n => n.Data).ToArray(), 15, 7, 33);
        var distances = new double[query.PatchCount];
        NearestPatchDistances.Compute(query, NormalBank.FromBags(normals), distances);
        AssertRelative(BruteNearest(query, concatenated), distances, 1e-12, "bank");
        var fromRows = NormalBank.FromRows(concatenated.Data, concatenated.PatchCount, 33);
        var again = new double[query.PatchCount];
        NearestPatchDistances.Compute(query, fromRows, again);
        Assert.Equal(distances, again);
    }

    [Fact]
    public void RejectsMixedDimensionsNonFiniteValuesAndWrongLengths()
    {
        var random = new Random(1);
        var query = RandomBag(random, 2, 2, 8);
        Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Compute(query, RandomBag(random, 2, 2, 9)));
        var poisoned = RandomBag(random, 2, 2, 8);
        poisoned.Data[5] = float.NaN;
        Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Compute(query, poisoned));
        poisoned.Data[5] = float.PositiveInfinity;
        Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Compute(poisoned, query));
        Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Compute(query, query, new double[3]));
        Assert.Throws<InvalidClusteringInputException>(() => NearestPatchDistances.Compute(query, query, maxDegreeOfParallelism: -2));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBank.FromBags([]));
        Assert.Throws<InvalidClusteringInputException>(() => NormalBank.FromBags([query, RandomBag(random, 2, 2, 9)]));
    }
}
