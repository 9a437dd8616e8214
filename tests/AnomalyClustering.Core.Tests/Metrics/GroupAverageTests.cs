using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Image-count-weighted group averages against numpy.average, and their input checks.</summary>
public class GroupAverageTests
{
    public static TheoryData<string> Cases => MetricsFixtures.GroupAverageNames();

    [Theory]
    [MemberData(nameof(Cases))]
    public void WeightedMeanEqualsNumpyAverage(string name)
    {
        var fixture = MetricsFixtures.GroupAverage(name);
        var scores = MetricsFixtures.Doubles(fixture.GetProperty("scores"));
        var counts = MetricsFixtures.Ints(fixture.GetProperty("counts"));
        var average = GroupAverage.Weighted(scores, counts);
        Assert.InRange(Math.Abs(average - fixture.GetProperty("average").GetDouble()), 0, MetricsFixtures.Tolerance);
    }

    [Fact]
    public void GroupsAreAveragedSeparatelyAndWeightedByImages()
    {
        CategoryScores[] categories =
        [
            new("bottle", "objects", 100, 0.5, 0.4, 0.6),
            new("carpet", "textures", 50, 0.9, 0.8, 0.7),
            new("screw", "objects", 300, 0.1, 0.0, 0.2),
            new("grid", "textures", 50, 0.7, 0.6, 0.5),
        ];
        var groups = GroupAverage.ByGroup(categories);
        Assert.Equal(["objects", "textures"], groups.Select(g => g.Group));

        var objects = groups[0];
        Assert.Equal(2, objects.CategoryCount);
        Assert.Equal(400, objects.ImageCount);
        Assert.Equal((0.5 * 100 + 0.1 * 300) / 400, objects.NormalizedMutualInformation, 1e-15);
        Assert.Equal((0.4 * 100 + 0.0 * 300) / 400, objects.AdjustedRandIndex, 1e-15);
        Assert.Equal((0.6 * 100 + 0.2 * 300) / 400, objects.HungarianF1, 1e-15);

        var textures = groups[1];
        Assert.Equal(0.8, textures.NormalizedMutualInformation, 1e-15);

        var all = GroupAverage.Of("all", categories);
        Assert.Equal(500, all.ImageCount);
        Assert.Equal((50 + 45 + 30 + 35) / 500.0, all.NormalizedMutualInformation, 1e-15);
    }

    [Fact]
    public void CategoryScoresComeFromAnEvaluation()
    {
        var scores = ClusteringMetrics.Evaluate(["good", "crack", "good"], [0, 1, 1]);
        var category = CategoryScores.From("bottle", "objects", scores);
        Assert.Equal(3, category.ImageCount);
        Assert.Equal(scores.AdjustedRandIndex, category.AdjustedRandIndex);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.Weighted([], []));
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.Weighted([0.5, 0.2], [10]));
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.Weighted([0.5, double.NaN], [10, 3]));
        var error = Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.Weighted([0.5, 0.2], [10, 0]));
        Assert.Contains("at least 1", error.Message);
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.ByGroup([]));
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.ByGroup([new CategoryScores("bottle", "", 10, 0.1, 0.1, 0.1)]));
        Assert.Throws<InvalidClusteringInputException>(() => GroupAverage.Of("objects", []));
    }
}
