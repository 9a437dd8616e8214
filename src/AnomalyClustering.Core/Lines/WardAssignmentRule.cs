using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>
/// Assigns a new image embedding x to a catalog's clusters consistently with the Ward clustering that made them:
/// <list type="number">
/// <item>the nearest cluster is the one whose Ward criterion (within-cluster sum of squares) would grow least if x
/// joined it, delta_c = n_c / (n_c + 1) * ||x - mu_c||^2 (half the square of SciPy's Ward merge height between x as a
/// singleton and the cluster); large clusters thus attract slightly more than small ones at the same distance, as in the merge tree;</item>
/// <item>x is <see cref="AssignmentOutcome.Novel"/> when ||x - mu_c|| exceeds that cluster's acceptance radius,
/// <see cref="AssignmentRuleSettings.AcceptanceFactor"/> times its spread (<see cref="LineCatalog.AcceptanceRadius"/>);</item>
/// <item>otherwise <see cref="AssignmentOutcome.Assigned"/>, or <see cref="AssignmentOutcome.Ambiguous"/> when the second
/// cluster's increase is within <see cref="AssignmentRuleSettings.Margin"/> of the nearest's, relatively.</item>
/// </list>
/// Ties in delta go to the lower cluster index. Pure and thread-safe; O(K D) time per image, no allocation beyond the decision.
/// </summary>
public sealed class WardAssignmentRule
{
    private readonly LineCatalog _catalog;
    private readonly double[] _radii;

    /// <summary>Prepares the rule for <paramref name="catalog"/> (its acceptance radii are computed once).</summary>
    /// <exception cref="InvalidClusteringInputException">The catalog has no clusters, or a centroid's length is not its dimension.</exception>
    public WardAssignmentRule(LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        catalog.Rule.Validate();
        if (catalog.Clusters.Count == 0)
        {
            throw new InvalidClusteringInputException($"catalog '{catalog.Line}' version {catalog.Version} has no clusters; nothing can be assigned to it.");
        }
        for (var c = 0; c < catalog.Clusters.Count; c++)
        {
            if (catalog.Clusters[c].Centroid.Length != catalog.EmbeddingDimension)
            {
                throw new InvalidClusteringInputException(
                    $"cluster '{catalog.Clusters[c].Name}' has a centroid of {catalog.Clusters[c].Centroid.Length} values; the catalog's dimension is {catalog.EmbeddingDimension}.");
            }
        }
        _catalog = catalog;
        _radii = Enumerable.Range(0, catalog.Clusters.Count).Select(catalog.AcceptanceRadius).ToArray();
    }

    /// <summary>The catalog decisions are made against.</summary>
    public LineCatalog Catalog => _catalog;

    /// <summary>Decides for one embedding.</summary>
    /// <exception cref="InvalidClusteringInputException">The embedding's length is not the catalog's dimension, or it holds NaN or infinity.</exception>
    public AssignmentDecision Assign(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != _catalog.EmbeddingDimension)
        {
            throw new InvalidClusteringInputException(
                $"the embedding has {embedding.Length} values; catalog '{_catalog.Line}' holds embeddings of {_catalog.EmbeddingDimension} (was the image embedded with the catalog's backbone and options?).");
        }
        var clusters = _catalog.Clusters;
        var increases = new double[clusters.Count];
        var distances = new double[clusters.Count];
        var nearest = 0;
        for (var c = 0; c < clusters.Count; c++)
        {
            var squared = SquaredDistance(embedding, clusters[c].Centroid);
            if (!double.IsFinite(squared))
            {
                throw new InvalidClusteringInputException("the embedding holds NaN or infinity; it cannot be assigned.");
            }
            distances[c] = Math.Sqrt(squared);
            var size = (double)clusters[c].Size;
            increases[c] = size / (size + 1) * squared;
            if (increases[c] < increases[nearest])
            {
                nearest = c;
            }
        }

        var margin = 1.0;
        if (clusters.Count > 1)
        {
            var second = double.PositiveInfinity;
            for (var c = 0; c < clusters.Count; c++)
            {
                if (c != nearest && increases[c] < second)
                {
                    second = increases[c];
                }
            }
            margin = second > 0 ? (second - increases[nearest]) / second : 0;
        }
        var radius = _radii[nearest];
        var distance = distances[nearest];
        var novelty = radius > 0 ? distance / radius : distance > 0 ? double.PositiveInfinity : 0;
        var outcome = distance > radius ? AssignmentOutcome.Novel
            : margin < _catalog.Rule.Margin ? AssignmentOutcome.Ambiguous
            : AssignmentOutcome.Assigned;
        return new AssignmentDecision(outcome, nearest, clusters[nearest].Name, _catalog.Version, increases, distances, margin, radius, novelty);
    }

    private static double SquaredDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> centroid)
    {
        // Summed in double: D up to a few thousand, and decisions compare values that can differ in the 7th digit.
        double sum = 0;
        for (var i = 0; i < x.Length; i++)
        {
            double difference = x[i] - centroid[i];
            sum += difference * difference;
        }
        return sum;
    }
}
