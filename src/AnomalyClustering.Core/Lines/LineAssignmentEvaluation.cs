using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>Image embeddings with a ground-truth label each: the input of <see cref="LineAssignmentEvaluation"/>.</summary>
/// <param name="Values">N x D embeddings, row-major.</param>
/// <param name="Dimension">D.</param>
/// <param name="Labels">N labels (class names).</param>
public sealed record LabelledEmbeddings(float[] Values, int Dimension, IReadOnlyList<string> Labels)
{
    /// <summary>N, the number of images.</summary>
    public int Count => Labels.Count;
}

/// <summary>How the evaluation made a catalog's clusters from its half of the images.</summary>
public enum CatalogConstruction
{
    /// <summary>One cluster per ground-truth class: measures the rule alone, as if the clustering were perfect.</summary>
    Labels,

    /// <summary>Ward clustering of the half cut into as many clusters as it has classes, each named by its majority class: what a line gets from a job whose clusters an engineer named.</summary>
    WardCut,
}

/// <summary>How well the rule assigned the held-back half to a catalog of all classes.</summary>
/// <param name="Construction">How the catalog was made.</param>
/// <param name="Images">Images assigned.</param>
/// <param name="NearestAccuracy">Share whose nearest cluster names their class (novel decisions counted by their nearest cluster).</param>
/// <param name="Accuracy">Share assigned (not novel) to a cluster that names their class.</param>
/// <param name="NovelShare">Share flagged novel (all of them belong to a known class here: false alarms).</param>
/// <param name="AmbiguousShare">Share within the margin between two clusters.</param>
public sealed record AssignmentAccuracy(CatalogConstruction Construction, int Images, double NearestAccuracy, double Accuracy, double NovelShare, double AmbiguousShare);

/// <summary>How well the rule flagged a class the catalog does not hold.</summary>
/// <param name="HeldOutClass">The class left out of the catalog.</param>
/// <param name="Construction">How the catalog was made.</param>
/// <param name="HeldOutImages">Images of that class in the assigned half.</param>
/// <param name="KnownImages">Images of the other classes in the assigned half.</param>
/// <param name="Auroc">AUROC of the novelty score, held-out images positive, known images negative (threshold-free).</param>
/// <param name="HeldOutFlaggedShare">Share of the held-out images flagged novel.</param>
/// <param name="KnownFlaggedShare">Share of the known images flagged novel.</param>
public sealed record HeldOutNovelty(string HeldOutClass, CatalogConstruction Construction, int HeldOutImages, int KnownImages, double Auroc, double HeldOutFlaggedShare, double KnownFlaggedShare);

/// <summary>The figures of one evaluation.</summary>
/// <param name="CatalogImages">Images in the catalog half.</param>
/// <param name="AssignedImages">Images in the assigned half.</param>
/// <param name="Accuracy">Per construction, the assignment of the half against a catalog of every class.</param>
/// <param name="Novelty">Per construction and held-out class, the novelty figures.</param>
public sealed record LineEvaluationReport(int CatalogImages, int AssignedImages, IReadOnlyList<AssignmentAccuracy> Accuracy, IReadOnlyList<HeldOutNovelty> Novelty);

/// <summary>
/// Measures <see cref="WardAssignmentRule"/> offline on labelled embeddings: a seeded split, stratified by class, into a
/// catalog half and an assigned half; assignment accuracy against a catalog of every class; then, for each defect class
/// (every class but the normal one) in turn, a catalog without it and the AUROC and flagged shares of the novelty score.
/// The catalog is made from the labels and from a Ward cut (<see cref="CatalogConstruction"/>). Cost: per catalog one
/// Ward clustering of the half (O(N^2) memory) and O(N K D) assignment, for 1 + (classes - 1) catalogs.
/// </summary>
public static class LineAssignmentEvaluation
{
    /// <summary>Runs the evaluation.</summary>
    /// <param name="data">The labelled embeddings.</param>
    /// <param name="settings">The rule's settings.</param>
    /// <param name="seed">The split's seed.</param>
    /// <param name="catalogFraction">The share of each class that goes to the catalog half (at least one image, and at least one left to assign).</param>
    /// <param name="normalClass">The class that is never held out (the good images), if present.</param>
    /// <exception cref="InvalidClusteringInputException">Fewer than two classes, a class with fewer than two images, or shapes that disagree.</exception>
    public static LineEvaluationReport Evaluate(LabelledEmbeddings data, AssignmentRuleSettings settings, ulong seed, double catalogFraction = 0.5, string normalClass = "good")
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (data.Dimension < 1 || data.Values.Length != (long)data.Count * data.Dimension)
        {
            throw new InvalidClusteringInputException($"expected {data.Count} embeddings of {data.Dimension} values, got {data.Values.Length} floats.");
        }
        if (!(catalogFraction > 0 && catalogFraction < 1))
        {
            throw new InvalidClusteringInputException($"the catalog fraction is {catalogFraction}; it must be between 0 and 1.");
        }
        var (catalogHalf, assignedHalf) = StratifiedSplit(data.Labels, seed, catalogFraction);
        var classes = data.Labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var accuracy = new List<AssignmentAccuracy>();
        var novelty = new List<HeldOutNovelty>();
        foreach (var construction in new[] { CatalogConstruction.Labels, CatalogConstruction.WardCut })
        {
            var full = BuildCatalog(data, catalogHalf, construction, settings);
            accuracy.Add(MeasureAccuracy(data, assignedHalf, full, construction));
            foreach (var heldOut in classes.Where(c => !string.Equals(c, normalClass, StringComparison.Ordinal)))
            {
                var known = catalogHalf.Where(i => data.Labels[i] != heldOut).ToList();
                var (catalog, _) = BuildCatalog(data, known, construction, settings);
                novelty.Add(MeasureNovelty(data, assignedHalf, catalog, heldOut, construction));
            }
        }
        return new LineEvaluationReport(catalogHalf.Count, assignedHalf.Count, accuracy, novelty);
    }

    /// <summary>Per class, a seeded shuffle; the first ceil-free share floor(n * fraction), kept within [1, n - 1], goes to the catalog.</summary>
    internal static (List<int> Catalog, List<int> Assigned) StratifiedSplit(IReadOnlyList<string> labels, ulong seed, double catalogFraction)
    {
        var catalog = new List<int>();
        var assigned = new List<int>();
        var random = new SplitMix64(seed);
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            if (members.Length < 2)
            {
                throw new InvalidClusteringInputException($"class '{group.Key}' has {members.Length} image; each class needs two, one for the catalog and one to assign.");
            }
            for (var i = members.Length - 1; i > 0; i--)
            {
                var j = (int)random.NextBelow((ulong)i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }
            var take = Math.Clamp((int)Math.Floor(members.Length * catalogFraction), 1, members.Length - 1);
            catalog.AddRange(members[..take]);
            assigned.AddRange(members[take..]);
        }
        if (catalog.Select(i => labels[i]).Distinct(StringComparer.Ordinal).Count() < 2)
        {
            throw new InvalidClusteringInputException("the evaluation needs at least two classes.");
        }
        catalog.Sort();
        assigned.Sort();
        return (catalog, assigned);
    }

    /// <summary>A catalog of the images <paramref name="members"/>, and the class each of its clusters stands for.</summary>
    private static (LineCatalog Catalog, string[] ClassOfCluster) BuildCatalog(LabelledEmbeddings data, List<int> members, CatalogConstruction construction, AssignmentRuleSettings settings)
    {
        var dimension = data.Dimension;
        var points = new float[members.Count * dimension];
        for (var k = 0; k < members.Count; k++)
        {
            data.Values.AsSpan(members[k] * dimension, dimension).CopyTo(points.AsSpan(k * dimension));
        }
        var labels = members.Select(i => data.Labels[i]).ToArray();
        var classes = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        int[] cut;
        if (construction == CatalogConstruction.Labels)
        {
            cut = labels.Select(label => classes.IndexOf(label)).ToArray();
        }
        else if (members.Count == 1)
        {
            // One catalog image (one class leaving a single image behind) is one cluster; the linkage refuses a single point
            // with a message about the input that would mislead here.
            cut = new int[members.Count];
        }
        else
        {
            cut = HierarchicalClustering.Linkage(points, members.Count, dimension, LinkageMethod.Ward).CutToClusters(classes.Count);
        }
        var clusterCount = cut.Max() + 1;
        var classOfCluster = new string[clusterCount];
        var names = new string[clusterCount];
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < clusterCount; c++)
        {
            // The majority class names the cluster (ties: the ordinally first class), as an engineer reading its gallery would.
            classOfCluster[c] = Enumerable.Range(0, labels.Length).Where(k => cut[k] == c).GroupBy(k => labels[k], StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            used[classOfCluster[c]] = used.GetValueOrDefault(classOfCluster[c]) + 1;
            names[c] = used[classOfCluster[c]] == 1 ? classOfCluster[c] : $"{classOfCluster[c]} ({used[classOfCluster[c]]})";
        }
        var clusters = LineCatalogBuilder.FromCut(points, members.Count, dimension, cut, names);
        var catalog = new LineCatalog("evaluation", 1, new CatalogSource("evaluation", "evaluation", null, "evaluation"), null, settings, dimension, clusters);
        return (catalog, classOfCluster);
    }

    private static AssignmentAccuracy MeasureAccuracy(LabelledEmbeddings data, List<int> assigned, (LineCatalog Catalog, string[] ClassOfCluster) built, CatalogConstruction construction)
    {
        var rule = new WardAssignmentRule(built.Catalog);
        int nearestRight = 0, right = 0, novel = 0, ambiguous = 0;
        foreach (var i in assigned)
        {
            var decision = rule.Assign(data.Values.AsSpan(i * data.Dimension, data.Dimension));
            var isRight = built.ClassOfCluster[decision.Nearest] == data.Labels[i];
            nearestRight += isRight ? 1 : 0;
            right += isRight && decision.Outcome != AssignmentOutcome.Novel ? 1 : 0;
            novel += decision.Outcome == AssignmentOutcome.Novel ? 1 : 0;
            ambiguous += decision.Outcome == AssignmentOutcome.Ambiguous ? 1 : 0;
        }
        double n = assigned.Count;
        return new AssignmentAccuracy(construction, assigned.Count, nearestRight / n, right / n, novel / n, ambiguous / n);
    }

    private static HeldOutNovelty MeasureNovelty(LabelledEmbeddings data, List<int> assigned, LineCatalog catalog, string heldOut, CatalogConstruction construction)
    {
        var rule = new WardAssignmentRule(catalog);
        var scores = new List<double>(assigned.Count);
        var positive = new List<bool>(assigned.Count);
        int heldOutFlagged = 0, knownFlagged = 0;
        foreach (var i in assigned)
        {
            var decision = rule.Assign(data.Values.AsSpan(i * data.Dimension, data.Dimension));
            var isHeldOut = data.Labels[i] == heldOut;
            scores.Add(decision.NoveltyScore);
            positive.Add(isHeldOut);
            if (decision.Outcome == AssignmentOutcome.Novel)
            {
                heldOutFlagged += isHeldOut ? 1 : 0;
                knownFlagged += isHeldOut ? 0 : 1;
            }
        }
        var heldOutCount = positive.Count(p => p);
        var knownCount = positive.Count - heldOutCount;
        return new HeldOutNovelty(heldOut, construction, heldOutCount, knownCount, ReceiverOperatingCharacteristic.AreaUnderCurve(scores.ToArray(), positive.ToArray()),
            (double)heldOutFlagged / heldOutCount, (double)knownFlagged / knownCount);
    }
}
