using AnomalyClustering.Cli.Lines;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The figures line feed prints for a folder of class folders: accuracy over the classes the catalog has a type of (a
/// second cluster "crack (2)" counts for crack), and for a class without a type the AUROC of the novelty score and its share
/// flagged novel; errors and images outside class folders are not counted.
/// </summary>
public sealed class LabelledFeedFiguresTests
{
    [Fact]
    public void AccuracyCountsTheKnownClassesAndAClassWithoutATypeGetsItsNoveltyAuroc()
    {
        var figures = new LabelledFeedFigures();
        figures.Add("crack/1.png", Decision("crack", "assigned", 0.5));
        figures.Add("crack/2.png", Decision("crack (2)", "ambiguous", 0.9));
        figures.Add("crack/3.png", Decision("stain", "assigned", 0.7));
        figures.Add("stain/1.png", Decision("stain", "novel", 1.2));
        figures.Add("dent/1.png", Decision("stain", "novel", 1.5));
        figures.Add("dent/2.png", Decision("crack", "assigned", 0.8));
        figures.Add("loose.png", Decision("crack", "assigned", 0.1));
        figures.Add("stain/2.png", Decision("stain", "error", null) with { Error = new LineImageError("not-an-image", "bad") });

        var lines = figures.Describe();

        Assert.Equal("labelled images (class folders): 6, 4 of classes with a type in the catalog", lines[0]);
        // Assigned to a type of their class: crack/1, crack/2; nearest of their class: those and stain/1; novel: stain/1.
        Assert.Equal("  assignment accuracy 0.500, nearest-type accuracy 0.750, flagged novel 0.250, ambiguous 0.250", lines[1]);
        // dent scores 1.5 and 0.8 against 0.5, 0.9, 0.7, 1.2: 1.5 beats all four, 0.8 beats two: 6 of 8 pairs.
        Assert.Equal("  class 'dent' has no type (held out): 2 images, novelty AUROC 0.750 against the known classes' images, flagged novel 0.500", lines[2]);
        Assert.Equal(3, lines.Count);
    }

    private static LineDecision Decision(string nearest, string outcome, double? novelty) => new(
        "id", "f", DateTimeOffset.UnixEpoch, 1, outcome == "novel" ? "novel" : nearest, outcome, nearest, null, null,
        new Dictionary<string, double> { ["crack"] = 1, ["crack (2)"] = 1, ["stain"] = 1 }, new Dictionary<string, double>(), 0.5, 1, novelty);
}
