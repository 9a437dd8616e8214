using System.Text.Json;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Scoring;

/// <summary>The label-free detection threshold against numpy (tools/fixtures/gen_detection.py).</summary>
public class DetectionThresholdTests
{
    private static readonly Lazy<JsonElement> Fixture = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("detection", "threshold.json")));
        return document.RootElement.Clone();
    });

    [Fact]
    public void QuantileEqualsNumpysLinearQuantile()
    {
        foreach (var item in Fixture.Value.GetProperty("quantiles").EnumerateArray())
        {
            var scores = item.GetProperty("scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var threshold = DetectionThreshold.FromNormalScores(scores, item.GetProperty("quantile").GetDouble());
            Assert.InRange(Math.Abs(threshold - item.GetProperty("threshold").GetDouble()), 0, 1e-12);
        }
    }

    [Fact]
    public void LeaveOneOutScoresEqualTheBruteForceReference()
    {
        var fixture = Fixture.Value.GetProperty("bags");
        var shape = fixture.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = fixture.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var (count, patches, dimension) = (shape[0], shape[1], shape[2]);
        var bags = Enumerable.Range(0, count)
            .Select(n => new PatchBag(values.AsSpan(n * patches * dimension, patches * dimension).ToArray(), 3, 4, dimension))
            .ToArray();

        var scores = DetectionThreshold.LeaveOneOutNormalScores(bags, maxDegreeOfParallelism: 1);

        var expected = fixture.GetProperty("looScores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(expected.Length, scores.Length);
        for (var n = 0; n < scores.Length; n++)
        {
            Assert.InRange(Math.Abs(scores[n] - expected[n]), 0, 1e-6);
        }
        // The normal image with the odd patch scores highest: leaving it out of its own bank is what exposes it.
        Assert.Equal(3, Array.IndexOf(scores, scores.Max()));
    }

    [Fact]
    public void BadInputIsRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => DetectionThreshold.FromNormalScores([]));
        Assert.Throws<InvalidClusteringInputException>(() => DetectionThreshold.FromNormalScores([1.0], 1.5));
        Assert.Throws<InvalidClusteringInputException>(() => DetectionThreshold.FromNormalScores([double.NaN]));
        var one = new PatchBag(new float[12 * 2], 3, 4, 2);
        Assert.Throws<InvalidClusteringInputException>(() => DetectionThreshold.LeaveOneOutNormalScores([one]));
    }
}
