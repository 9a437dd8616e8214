using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Scoring;

public class ImageAnomalyScoreTests
{
    [Fact]
    public void IsTheLargestPatchScore()
    {
        Assert.Equal(7.25, ImageAnomalyScore.FromPatchScores([0.5, 7.25, -1.0, 7.0]));
        Assert.Equal(-2.0, ImageAnomalyScore.FromPatchScores([-2.0]));
    }

    [Fact]
    public void EmptyOrNonFiniteScoresAreRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ImageAnomalyScore.FromPatchScores([]));
        Assert.Throws<InvalidClusteringInputException>(() => ImageAnomalyScore.FromPatchScores([1.0, double.PositiveInfinity]));
    }
}
