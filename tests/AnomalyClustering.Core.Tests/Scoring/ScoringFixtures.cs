using System.Text.Json;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Scoring;

/// <summary>Loads the PyTorch reference values written by tools/fixtures/gen_scores.py, and brute-force references.</summary>
internal static class ScoringFixtures
{
    public static JsonElement Meta { get; } = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("scoring", "scoring.json"))).RootElement;

    public static double[] Taus => Meta.GetProperty("taus").EnumerateArray().Select(t => t.GetDouble()).ToArray();

    public static NpyArray Load(string file) => NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("scoring", file)));

    /// <summary>The bags of a case: an (N, M, T) float32 array on the case's grid.</summary>
    public static List<PatchBag> Bags(string caseName, string file)
    {
        var grid = Meta.GetProperty("cases").GetProperty(caseName).GetProperty("grid");
        return BagsFromArray(Load(file), grid[0].GetInt32(), grid[1].GetInt32());
    }

    public static List<PatchBag> Bags(string caseName) => Bags(caseName, $"{caseName}_bags.npy");

    public static List<PatchBag> BagsFromArray(NpyArray array, int height, int width)
    {
        var (n, m, t) = (array.Shape[0], array.Shape[1], array.Shape[2]);
        Assert.Equal(height * width, m);
        var data = array.ToSingles();
        return Enumerable.Range(0, n).Select(i => new PatchBag(data.AsSpan(i * m * t, m * t).ToArray(), height, width, t)).ToList();
    }

    /// <summary>Rows of a 2-D (or the [index] slice of a 3-D) float64 array.</summary>
    public static double[][] Rows(NpyArray array, int? slice = null)
    {
        var values = array.ToDoubles();
        var (rows, columns, offset) = array.Shape.Count == 2
            ? (array.Shape[0], array.Shape[1], 0)
            : (array.Shape[1], array.Shape[2], slice!.Value * array.Shape[1] * array.Shape[2]);
        return Enumerable.Range(0, rows).Select(r => values.AsSpan(offset + r * columns, columns).ToArray()).ToArray();
    }

    /// <summary>min_l ||a_k - b_l|| by direct double differences: the definition, O(M M' T).</summary>
    public static double[] BruteNearest(PatchBag query, PatchBag reference)
    {
        var result = new double[query.PatchCount];
        for (var k = 0; k < query.PatchCount; k++)
        {
            var best = double.PositiveInfinity;
            var a = query.Patch(k);
            for (var l = 0; l < reference.PatchCount; l++)
            {
                var b = reference.Patch(l);
                var sum = 0.0;
                for (var t = 0; t < a.Length; t++)
                {
                    var d = (double)a[t] - b[t];
                    sum += d * d;
                }
                best = Math.Min(best, sum);
            }
            result[k] = Math.Sqrt(best);
        }
        return result;
    }

    public static PatchBag RandomBag(Random random, int height, int width, int dimension, float scale = 1f)
    {
        var data = new float[height * width * dimension];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = scale * (float)(random.NextDouble() * 2 - 1);
        }
        return new PatchBag(data, height, width, dimension);
    }

    /// <summary>Asserts |actual - expected| &lt;= tolerance |expected| element by element.</summary>
    public static void AssertRelative(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= tolerance * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (relative error {error / Math.Abs(expected[i]):E2})");
        }
    }

    /// <summary>Asserts max |actual - expected| &lt;= tolerance max |expected| (relative to the vector's scale).</summary>
    public static void AssertVectorRelative(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Count; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= tolerance * scale, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {error:E2}, scale {scale:E2})");
        }
    }
}
