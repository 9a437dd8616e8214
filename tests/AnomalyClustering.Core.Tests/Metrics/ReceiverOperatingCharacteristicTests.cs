using System.Text.Json;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Image AUROC against scikit-learn's roc_auc_score (tools/fixtures/gen_detection.py), +inf scores included.</summary>
public class ReceiverOperatingCharacteristicTests
{
    private static readonly Lazy<JsonElement> Fixture = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("detection", "auroc.json")));
        return document.RootElement.Clone();
    });

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var item in Fixture.Value.GetProperty("cases").EnumerateArray())
        {
            names.Add(item.GetProperty("name").GetString()!);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EqualsScikitLearn(string name)
    {
        var fixture = Fixture.Value.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        // JSON has no infinity: the fixture writes +inf as the string "Infinity".
        var scores = fixture.GetProperty("scores").EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.String ? double.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : e.GetDouble()).ToArray();
        var positive = fixture.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32() == 1).ToArray();

        var auroc = ReceiverOperatingCharacteristic.AreaUnderCurve(scores, positive);

        Assert.InRange(Math.Abs(auroc - fixture.GetProperty("auroc").GetDouble()), 0, MetricsFixtures.Tolerance);
    }

    [Fact]
    public void OneClassOnlyIsRefused()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => ReceiverOperatingCharacteristic.AreaUnderCurve([1.0, 2.0], [true, true]));
        Assert.Contains("both positives and negatives", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InfiniteScoresAreCovered()
    {
        // The fixture must keep its +inf cases: the line evaluation's novelty scores can be infinite.
        Assert.Contains(Fixture.Value.GetProperty("cases").EnumerateArray(),
            c => c.GetProperty("scores").EnumerateArray().Any(e => e.ValueKind == JsonValueKind.String));
    }

    [Fact]
    public void NaNScoresAndLengthMismatchAreRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ReceiverOperatingCharacteristic.AreaUnderCurve([1.0, double.NaN], [true, false]));
        Assert.Throws<InvalidClusteringInputException>(() => ReceiverOperatingCharacteristic.AreaUnderCurve([1.0, 2.0, 3.0], [true, false]));
    }
}
