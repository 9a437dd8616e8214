using System.Text.Json;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>The scikit-learn / SciPy reference values written by tools/fixtures/gen_metrics.py.</summary>
internal static class MetricsFixtures
{
    /// <summary>METHOD.md section 5: equal to scikit-learn to 1e-9.</summary>
    public const double Tolerance = 1e-9;

    private static readonly Lazy<JsonElement> LabelingsJson = new(() => Load("labelings.json"));
    private static readonly Lazy<JsonElement> AssignmentJson = new(() => Load("assignment.json"));
    private static readonly Lazy<JsonElement> GroupAverageJson = new(() => Load("group_average.json"));
    private static readonly Lazy<JsonElement> LargeJson = new(() => Load("large.json"));
    private static readonly Lazy<JsonElement> PairwiseSumJson = new(() => Load("pairwise_sum.json"));

    public static JsonElement Labeling(string name) => Case(LabelingsJson.Value, name);

    public static JsonElement Assignment(string name) => Case(AssignmentJson.Value, name);

    public static JsonElement GroupAverage(string name) => Case(GroupAverageJson.Value, name);

    public static JsonElement Large(string name) => Case(LargeJson.Value, name);

    public static IEnumerable<JsonElement> AllPairwiseSums() => PairwiseSumJson.Value.GetProperty("cases").EnumerateArray();

    public static TheoryData<string> LabelingNames() => Names(LabelingsJson.Value);

    public static TheoryData<string> AssignmentNames() => Names(AssignmentJson.Value);

    public static TheoryData<string> GroupAverageNames() => Names(GroupAverageJson.Value);

    public static TheoryData<string> LargeNames() => Names(LargeJson.Value);

    public static IEnumerable<JsonElement> AllLabelings() => LabelingsJson.Value.GetProperty("cases").EnumerateArray();

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static JsonElement Load(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("metrics", file)));
        return document.RootElement.Clone();
    }

    private static JsonElement Case(JsonElement root, string name) =>
        root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static TheoryData<string> Names(JsonElement root)
    {
        var names = new TheoryData<string>();
        foreach (var item in root.GetProperty("cases").EnumerateArray())
        {
            names.Add(item.GetProperty("name").GetString()!);
        }
        return names;
    }
}
