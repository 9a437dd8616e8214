using AnomalyClustering.Core.Lines;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Lines;

/// <summary>The offline evaluation: the seeded stratified split, and figures on separable and overlapping data (its AUROC is ReceiverOperatingCharacteristic's, tested there).</summary>
public class LineAssignmentEvaluationTests
{
    [Fact]
    public void TheSplitIsStratifiedSeededAndComplete()
    {
        var labels = Enumerable.Range(0, 31).Select(i => i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c").ToList();
        var (catalog, assigned) = LineAssignmentEvaluation.StratifiedSplit(labels, 7, 0.5);
        Assert.Equal(Enumerable.Range(0, 31), catalog.Concat(assigned).Order());
        Assert.Equal(5, catalog.Count(i => labels[i] == "a")); // floor(11 / 2)
        Assert.Equal(5, catalog.Count(i => labels[i] == "b"));
        Assert.Equal(5, catalog.Count(i => labels[i] == "c"));
        Assert.Equal(catalog, LineAssignmentEvaluation.StratifiedSplit(labels, 7, 0.5).Catalog);
        Assert.NotEqual(catalog, LineAssignmentEvaluation.StratifiedSplit(labels, 8, 0.5).Catalog);
    }

    [Fact]
    public void SeparatedClassesAreAssignedRightAndAHeldOutOneIsNovel()
    {
        var data = Blobs(spread: 0.3, perClass: 30, seed: 1);
        var report = LineAssignmentEvaluation.Evaluate(data, new AssignmentRuleSettings(0.1, 2), 0);
        Assert.Equal(45, report.CatalogImages); // 15 of each class's 30
        Assert.Equal(45, report.AssignedImages);
        foreach (var accuracy in report.Accuracy)
        {
            Assert.Equal(1.0, accuracy.NearestAccuracy);
            Assert.True(accuracy.NovelShare < 0.1, $"{accuracy.Construction}: {accuracy.NovelShare}");
        }
        // Two defect classes held out in turn ("good" never is), for both constructions.
        Assert.Equal(4, report.Novelty.Count);
        Assert.DoesNotContain(report.Novelty, n => n.HeldOutClass == "good");
        foreach (var novelty in report.Novelty)
        {
            Assert.Equal(1.0, novelty.Auroc);
            Assert.Equal(1.0, novelty.HeldOutFlaggedShare);
            Assert.Equal(15, novelty.HeldOutImages);
            Assert.Equal(30, novelty.KnownImages);
        }
    }

    [Fact]
    public void ACatalogOfOneImageIsOneCluster()
    {
        // Two images per class: holding "crack" out leaves one catalog image, which the Ward construction cannot link.
        var data = new LabelledEmbeddings([0, 0, 0.1f, 0, 5, 5, 5.1f, 5], 2, ["good", "good", "crack", "crack"]);
        var report = LineAssignmentEvaluation.Evaluate(data, new AssignmentRuleSettings(0.1, 2), 0);
        Assert.Equal(2, report.CatalogImages);
        var ward = Assert.Single(report.Novelty, n => n.Construction == CatalogConstruction.WardCut);
        Assert.Equal("crack", ward.HeldOutClass);
        Assert.Equal(1, ward.HeldOutImages);
        Assert.Equal(1, ward.KnownImages);
        // A one-image cluster has spread 0, so both assigned images score +inf novelty: a tie, AUROC one half.
        Assert.Equal(0.5, ward.Auroc);
    }

    [Fact]
    public void OverlappingClassesScoreBelowSeparatedOnes()
    {
        var separated = LineAssignmentEvaluation.Evaluate(Blobs(0.3, 30, 2), AssignmentRuleSettings.Default, 0);
        var overlapping = LineAssignmentEvaluation.Evaluate(Blobs(3.0, 30, 2), AssignmentRuleSettings.Default, 0);
        Assert.True(overlapping.Accuracy[0].NearestAccuracy < separated.Accuracy[0].NearestAccuracy);
        Assert.True(overlapping.Novelty.Average(n => n.Auroc) < separated.Novelty.Average(n => n.Auroc));
        Assert.InRange(overlapping.Accuracy[0].NearestAccuracy, 1.0 / 3, 0.99);
    }

    /// <summary>Three Gaussian classes in 8-D with centres 4 apart: good, crack and stain.</summary>
    private static LabelledEmbeddings Blobs(double spread, int perClass, int seed)
    {
        var random = new Random(seed);
        string[] classes = ["good", "crack", "stain"];
        var values = new List<float>();
        var labels = new List<string>();
        for (var c = 0; c < classes.Length; c++)
        {
            for (var i = 0; i < perClass; i++)
            {
                for (var d = 0; d < 8; d++)
                {
                    var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    values.Add((float)((d == c ? 4 : 0) + spread * gaussian));
                }
                labels.Add(classes[c]);
            }
        }
        return new LabelledEmbeddings([.. values], 8, labels);
    }
}
