using System.Text.Json;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Silhouette and Calinski-Harabasz against scikit-learn 1.2.1 (tools/fixtures/gen_cluster_count.py).</summary>
public class InternalClusteringScoresTests
{
    private static readonly Lazy<JsonElement> Scores = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("cluster_count", "scores.json")));
        return document.RootElement.Clone();
    });

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var item in Scores.Value.GetProperty("cases").EnumerateArray())
        {
            names.Add(item.GetProperty("name").GetString()!);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ScoresEqualScikitLearn(string name)
    {
        var fixture = Scores.Value.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var points = fixture.GetProperty("points").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        var labels = MetricsFixtures.Ints(fixture.GetProperty("labels"));
        var dimension = fixture.GetProperty("dimension").GetInt32();

        var silhouette = InternalClusteringScores.Silhouette(points, dimension, labels);
        var calinskiHarabasz = InternalClusteringScores.CalinskiHarabasz(points, dimension, labels);

        Assert.Equal(fixture.GetProperty("silhouette").GetDouble(), silhouette, 1e-9);
        var expected = fixture.GetProperty("calinskiHarabasz").GetDouble();
        Assert.InRange(Math.Abs(calinskiHarabasz - expected), 0, 1e-9 * Math.Max(1, Math.Abs(expected)));
    }

    [Fact]
    public void OneClusterOrOnePointPerClusterIsRefused()
    {
        float[] points = [0, 1, 2, 3];
        Assert.Throws<InvalidClusteringInputException>(() => InternalClusteringScores.Silhouette(points, 1, [0, 0, 0, 0]));
        Assert.Throws<InvalidClusteringInputException>(() => InternalClusteringScores.CalinskiHarabasz(points, 1, [0, 1, 2, 3]));
    }
}
