using System.Text.Json;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>The scikit-learn / SciPy reference values written by tools/fixtures/gen_cluster_count.py.</summary>
internal static class ClusterCountFixtures
{
    private static readonly Lazy<JsonElement> ScoresJson = new(() => Load("scores.json"));
    private static readonly Lazy<JsonElement> SelectionJson = new(() => Load("selection.json"));

    /// <summary>A case of scores.json: points, labels, silhouette and Calinski-Harabasz.</summary>
    public static JsonElement Scores(string name) => Case(ScoresJson.Value, name);

    /// <summary>A case of selection.json: points, SciPy's Ward linkage and every criterion's curve.</summary>
    public static JsonElement Selection(string name) => Case(SelectionJson.Value, name);

    public static IEnumerable<string> ScoreNames() => Names(ScoresJson.Value);

    public static IEnumerable<string> SelectionNames() => Names(SelectionJson.Value);

    /// <summary>The points of a case as the float32 values they were made from.</summary>
    public static float[] Points(JsonElement fixture) => fixture.GetProperty("points").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static JsonElement Load(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("cluster_count", file)));
        return document.RootElement.Clone();
    }

    private static JsonElement Case(JsonElement root, string name) =>
        root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static IEnumerable<string> Names(JsonElement root) =>
        root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);
}
