using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>SciPy 1.10 reference outputs written by tools/fixtures/gen_linkage.py.</summary>
internal static class LinkageFixtures
{
    private static readonly Lazy<JsonElement> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("linkage", "manifest.json"))).RootElement);

    public static readonly string[] Methods = ["ward", "average", "complete", "single"];

    public static IEnumerable<JsonElement> Cases => Manifest.Value.GetProperty("cases").EnumerateArray();

    public static IEnumerable<string> CaseNames => Cases.Select(c => c.GetProperty("name").GetString()!);

    public static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    public static LinkageMethod Method(string name) => name switch
    {
        "ward" => LinkageMethod.Ward,
        "average" => LinkageMethod.Average,
        "complete" => LinkageMethod.Complete,
        "single" => LinkageMethod.Single,
        _ => throw new ArgumentException(name),
    };

    /// <summary>The points of a case: row-major doubles, all exactly representable as float.</summary>
    public static (double[] Points, int Count, int Dimension) Points(string caseName)
    {
        var array = Npy(caseName + "_x.npy");
        return (array.ToDoubles(), array.Shape[0], array.Shape[1]);
    }

    /// <summary>SciPy's Z for a case and method.</summary>
    public static double[,] ScipyLinkage(string caseName, string method)
    {
        var array = Npy($"{caseName}_{method}_z.npy");
        var flat = array.ToDoubles();
        var z = new double[array.Shape[0], 4];
        Buffer.BlockCopy(flat, 0, z, 0, flat.Length * sizeof(double));
        return z;
    }

    public static NpyArray Npy(string file) => NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("linkage", file)));

    /// <summary>Labels renumbered 0, 1, ... in order of first appearance, so partitions compare as arrays.</summary>
    public static int[] ByFirstAppearance(IEnumerable<int> labels)
    {
        var seen = new Dictionary<int, int>();
        return labels.Select(l => seen.TryGetValue(l, out var id) ? id : seen[l] = seen.Count).ToArray();
    }

    /// <summary>Asserts merges identical (left, right, size) and heights within 1e-6 relative.</summary>
    public static void AssertSameLinkage(double[,] expected, MergeTree actual, string context)
    {
        Assert.Equal(expected.GetLength(0), actual.LinkageMatrix.Count);
        for (var r = 0; r < expected.GetLength(0); r++)
        {
            var step = actual.LinkageMatrix[r];
            var where = $"{context}, row {r}: expected ({expected[r, 0]}, {expected[r, 1]}, {expected[r, 2]:R}, {expected[r, 3]}), got {step}";
            Assert.True(step.Left == expected[r, 0] && step.Right == expected[r, 1] && step.Size == expected[r, 3], where);
            var tolerance = 1e-6 * Math.Max(Math.Abs(expected[r, 2]), 1e-300);
            Assert.True(Math.Abs(step.Height - expected[r, 2]) <= tolerance, where);
        }
    }
}
