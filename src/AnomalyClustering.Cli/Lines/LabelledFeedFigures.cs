using System.Globalization;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// What <c>line feed</c> measures when the fed folder holds class folders (<c>FOLDER/&lt;class&gt;/image</c>, the folder
/// name the label): assignment accuracy against the labels, and for a class the catalog has no type of (held out of its
/// job) how well the novelty score finds it. A type stands for a class when it is named as the class, or "class (k)" (a
/// second cluster of the same majority). The images of classes with a type count for accuracy: assigned (not novel) to a
/// type of their class; nearest type of their class (novel decisions counted by their nearest type). The images of a class
/// without one: AUROC of the novelty score (distance over the nearest type's radius), theirs positive against the known
/// classes' images, and the shares flagged novel. Error decisions and images outside class folders are not counted.
/// </summary>
internal sealed class LabelledFeedFigures
{
    private readonly List<(string Label, LineDecision Decision)> decisions = [];

    /// <summary>Counts <paramref name="decision"/> of the file named <paramref name="name"/> (relative to the fed folder) when it lies in a class folder.</summary>
    public void Add(string name, LineDecision decision)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && decision.Error is null)
        {
            decisions.Add((name[..slash], decision));
        }
    }

    /// <summary>The figures as lines of text, or none when no labelled image was decided.</summary>
    public IReadOnlyList<string> Describe()
    {
        if (decisions.Count == 0)
        {
            return [];
        }
        var types = decisions.SelectMany(d => d.Decision.Distances.Keys).ToHashSet(StringComparer.Ordinal);
        var known = decisions.Where(d => HasType(types, d.Label)).ToList();
        var lines = new List<string>
        {
            Invariant($"labelled images (class folders): {decisions.Count}, {known.Count} of classes with a type in the catalog"),
        };
        if (known.Count > 0)
        {
            double n = known.Count;
            lines.Add(Invariant($"  assignment accuracy {known.Count(d => d.Decision.Outcome != LineDecision.Novel && IsOf(d.Decision.Nearest, d.Label)) / n:F3}, nearest-type accuracy {known.Count(d => IsOf(d.Decision.Nearest, d.Label)) / n:F3}, flagged novel {known.Count(d => d.Decision.Outcome == LineDecision.Novel) / n:F3}, ambiguous {known.Count(d => d.Decision.Outcome == "ambiguous") / n:F3}"));
        }
        foreach (var heldOut in decisions.Where(d => !HasType(types, d.Label)).GroupBy(d => d.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var scores = heldOut.Concat(known).Select(d => d.Decision.NoveltyScore ?? double.PositiveInfinity).ToArray();
            var positive = heldOut.Select(_ => true).Concat(known.Select(_ => false)).ToArray();
            var auroc = known.Count > 0 ? ReceiverOperatingCharacteristic.AreaUnderCurve(scores, positive).ToString("F3", CultureInfo.InvariantCulture) : "n/a (no known images)";
            lines.Add(Invariant($"  class '{heldOut.Key}' has no type (held out): {heldOut.Count()} images, novelty AUROC {auroc} against the known classes' images, flagged novel {heldOut.Count(d => d.Decision.Outcome == LineDecision.Novel) / (double)heldOut.Count():F3}"));
        }
        return lines;
    }

    private static bool HasType(HashSet<string> types, string label) => types.Any(type => IsOf(type, label));

    private static bool IsOf(string type, string label) =>
        type == label || (type.StartsWith(label + " (", StringComparison.Ordinal) && type.EndsWith(')'));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
