using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Core.Tests.Clustering;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Silhouette and Calinski-Harabasz against scikit-learn 1.2.1 (tools/fixtures/gen_cluster_count.py).</summary>
public class InternalClusteringScoresTests
{
    public static TheoryData<string> CaseNames() => new(ClusterCountFixtures.ScoreNames());

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ScoresEqualScikitLearn(string name)
    {
        var fixture = ClusterCountFixtures.Scores(name);
        var points = ClusterCountFixtures.Points(fixture);
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
