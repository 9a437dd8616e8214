using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Tests.Pipeline;

/// <summary>Image anomaly scores on a result: attached in order, evaluated against good / defect labels, kept by result.json.</summary>
public sealed class ImageDetectionTests
{
    private static readonly ResultSource Source = new("vectors", "/data/vectors.npy", null, null, null, new Dictionary<string, int>());

    [Fact]
    public void ScoresAreAttachedInOrderAndEvaluatedAgainstGoodVersusTheRest()
    {
        double[] scores = [0.5, 2.0, 0.7, 3.0, 1.0, 0.6];
        var result = ImageDetection.WithAnomalyScores(Labelled(), scores, threshold: 0.9);

        Assert.Equal(scores, result.Images.Select(image => image.AnomalyScore!.Value));
        var detection = result.Detection!;
        var defective = result.Images.Select(image => image.Label != "good").ToArray();
        Assert.Equal(ReceiverOperatingCharacteristic.AreaUnderCurve(scores, defective), detection.ImageAuroc);
        // good: 0.5, 0.7, 1.0 (one above 0.9); defects: 2.0, 3.0, 0.6 (two above).
        Assert.Equal((3, 3, 1, 2), (detection.GoodImages, detection.DefectiveImages, detection.GoodAboveThreshold!.Value, detection.DefectiveAboveThreshold!.Value));
        Assert.Equal(7.0 / 9.0, detection.ImageAuroc, 12);
        Assert.Equal(0.9, result.AnomalyThreshold);
    }

    [Fact]
    public void NoDetectionWithoutAGoodClassOrWithoutScores()
    {
        Assert.Null(Labelled().Detection);
        var allDefects = Labelled() with { Images = Labelled().Images.Select(image => image with { Label = "crack" }).ToArray() };
        Assert.Null(ImageDetection.WithAnomalyScores(allDefects, [1, 2, 3, 4, 5, 6]).Detection);
        Assert.Throws<ArgumentException>(() => ImageDetection.WithAnomalyScores(Labelled(), [1, 2]));
    }

    [Fact]
    public void ScoresThresholdAndDetectionRoundTripThroughResultJson()
    {
        var result = ImageDetection.WithAnomalyScores(Labelled(), [0.5, 2.0, 0.7, 3.0, 1.0, 0.123456789012345], threshold: 0.9);
        using var buffer = new MemoryStream();
        ClusteringResultJson.Write(buffer, result, Source);
        buffer.Position = 0;

        var (read, _) = ClusteringResultJson.Read(buffer);

        Assert.Equal(result.Images.Select(i => i.AnomalyScore), read.Images.Select(i => i.AnomalyScore));
        Assert.Equal(0.9, read.AnomalyThreshold);
        Assert.Equal(result.Detection, read.Detection);
    }

    private static ClusteringResult Labelled()
    {
        float[] points = [0, 0, 0.1f, 0.2f, 5, 5, 5.1f, 5.2f, 9, 1, 9.2f, 1.1f];
        return EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], ["good", "crack", "good", "crack", "good", "stain"], new ClusteringJobOptions());
    }
}
