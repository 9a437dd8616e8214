using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;

namespace AnomalyClustering.Embedding.Tests.Kernels;

/// <summary>
/// The nearest-patch graph of GPU workers, run here on ONNX Runtime's CPU provider (the same graph the CUDA provider runs):
/// its scores are the CPU kernel's to double rounding wherever both choose the same patch (random data has no near ties):
/// the graph sums the same double squares in its own order. A wrong choice or a float32 distance would be off by far more.
/// </summary>
public sealed class OnnxNearestPatchSearchTests
{
    private static readonly BackboneRuntimeOptions Cpu = new() { IntraOpThreads = 1 };

    [Fact]
    public void UnsupervisedScoresAreTheCpuKernelsToDoubleRounding()
    {
        var random = new Random(3);
        // Reference images of different sizes: the short groups are padded inside the graph.
        var pool = Enumerable.Range(0, 5).Select(i => RandomBag(random, 6 + i % 2, 7, 40)).ToArray();
        var query = RandomBag(random, 9, 8, 40);
        using var search = OnnxNearestPatchSearch.ForGroups(pool, Cpu);
        foreach (int[] used in new[] { new[] { 0, 1, 2, 3 }, [4, 2, 0], [1] })
        {
            var expected = new double[query.PatchCount];
            UnsupervisedPatchScores.ForImage(query, [.. used.Select(g => pool[g])], expected, maxDegreeOfParallelism: 1);
            var actual = new double[query.PatchCount];
            search.MeanOverGroups(query, used, actual);
            AssertToDoubleRounding(expected, actual);
        }
    }

    [Fact]
    public void BankDistancesAreTheCpuKernelsToDoubleRounding()
    {
        var random = new Random(4);
        var bank = NormalBank.FromBags([RandomBag(random, 5, 5, 33), RandomBag(random, 4, 6, 33)]);
        var query = RandomBag(random, 7, 7, 33);
        using var search = OnnxNearestPatchSearch.ForBank(bank, Cpu);
        AssertToDoubleRounding(SemiSupervisedPatchScores.Compute(query, bank, maxDegreeOfParallelism: 1), Distances(search, query));
    }

    [Fact]
    public void QueriesRunInSlicesGiveTheSameScores()
    {
        var random = new Random(5);
        var pool = Enumerable.Range(0, 3).Select(_ => RandomBag(random, 5, 5, 16)).ToArray();
        var query = RandomBag(random, 11, 9, 16);
        using var whole = OnnxNearestPatchSearch.ForGroups(pool, Cpu);
        // The chosen patches of the 3 used groups in double and their differences, 2 x 3 x 16 values x 8 bytes = 768 bytes a
        // row, exceed the 3 x 25 candidates' 300: 7 rows a slice, so 99 rows take 15 runs, the last one short.
        Assert.Equal(768, OnnxNearestPatchSearch.BytesPerRow(3, 25, 3, 16));
        using var sliced = OnnxNearestPatchSearch.ForGroups(pool, Cpu, maxProductBytes: 7 * 768);
        var expected = new double[query.PatchCount];
        whole.MeanOverGroups(query, [0, 1, 2], expected);
        var actual = new double[query.PatchCount];
        sliced.MeanOverGroups(query, [0, 1, 2], actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void WrongShapesAreRefusedWithAMessage()
    {
        var random = new Random(6);
        using var search = OnnxNearestPatchSearch.ForGroups([RandomBag(random, 2, 2, 8), RandomBag(random, 2, 2, 8)], Cpu);
        Assert.Contains("values", Assert.Throws<ArgumentException>(() => search.MeanOverGroups(RandomBag(random, 2, 2, 9), [0], new double[4])).Message);
        Assert.Contains("between 0 and 1", Assert.Throws<ArgumentException>(() => search.MeanOverGroups(RandomBag(random, 2, 2, 8), [2], new double[4])).Message);
        Assert.Contains("one-group", Assert.Throws<InvalidOperationException>(() => search.Nearest(RandomBag(random, 2, 2, 8), new double[4])).Message);
        Assert.False(OnnxNearestPatchSearch.Fits(OnnxNearestPatchSearch.MaxConstantBytes / 4 / 1024 + 1, 1024));
        Assert.Contains("at least one reference group", Assert.Throws<ArgumentException>(() => OnnxNearestPatchSearch.ForGroups([], Cpu)).Message);
    }

    [Fact]
    public void PaddingNeverWinsAgainstLargeValues()
    {
        // References near 1e16 (their squares still fit a float) and a query near 0 put every real candidate
        // (|b|^2 - 2 a.b) above 1e30, the padding's old norm: the short group's padding then won.
        var large = new PatchBag([1e16f, 2e16f, 3e16f], 1, 3, 1);
        var short_ = new PatchBag([1.5e16f], 1, 1, 1);
        var query = new PatchBag([0f, 1e15f], 1, 2, 1);
        using var search = OnnxNearestPatchSearch.ForGroups([large, short_], Cpu);
        var expected = new double[query.PatchCount];
        UnsupervisedPatchScores.ForImage(query, [large, short_], expected, maxDegreeOfParallelism: 1);
        var actual = new double[query.PatchCount];
        search.MeanOverGroups(query, [0, 1], actual);
        AssertToDoubleRounding(expected, actual);
    }

    [Fact]
    public void ADistanceOfTheWrongPatchOrInFloatWouldFail()
    {
        // The tolerance below is far tighter than the float32 rounding of a distance or a near neighbour's distance.
        var random = new Random(7);
        var pool = Enumerable.Range(0, 2).Select(_ => RandomBag(random, 4, 4, 24)).ToArray();
        var query = RandomBag(random, 3, 3, 24);
        var expected = new double[query.PatchCount];
        UnsupervisedPatchScores.ForImage(query, pool, expected, maxDegreeOfParallelism: 1);
        var inFloat = expected.Select(score => (double)(float)score).ToArray();
        Assert.ThrowsAny<Exception>(() => AssertToDoubleRounding(expected, inFloat));
    }

    private static void AssertToDoubleRounding(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-12 * expected[k], $"patch {k}: {actual[k]:R}, the CPU kernel's {expected[k]:R}");
        }
    }

    private static double[] Distances(OnnxNearestPatchSearch search, PatchBag query)
    {
        var distances = new double[query.PatchCount];
        search.Nearest(query, distances);
        return distances;
    }

    private static PatchBag RandomBag(Random random, int height, int width, int dimension)
    {
        var data = new float[height * width * dimension];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return new PatchBag(data, height, width, dimension);
    }
}
