namespace AnomalyClustering.Core.Lines;

/// <summary>What the assignment rule decided for one image.</summary>
public enum AssignmentOutcome
{
    /// <summary>Within the nearest cluster's acceptance radius, and the nearest cluster leads the second by at least the margin.</summary>
    Assigned,

    /// <summary>Within the nearest cluster's acceptance radius, but the second cluster is almost as near (a lead under the margin).</summary>
    Ambiguous,

    /// <summary>Farther from the nearest cluster than its acceptance radius: a defect type the catalog does not hold.</summary>
    Novel,
}

/// <summary>
/// One decision of <see cref="WardAssignmentRule"/> with every number it was made from, so that it can be explained and
/// re-checked later ("assigned to crack: Ward increase 3.1 against 4.9 for stain, distance 1.9 within radius 2.4").
/// </summary>
/// <param name="Outcome">Assigned, ambiguous or novel.</param>
/// <param name="Nearest">The index of the nearest cluster by Ward increase (also for a novel image: the type it came closest to).</param>
/// <param name="NearestName">That cluster's name.</param>
/// <param name="CatalogVersion">The catalog version the decision was made with.</param>
/// <param name="WardIncreases">Per cluster, n_c / (n_c + 1) * ||x - mu_c||^2: how much Ward's criterion would grow if the image joined it.</param>
/// <param name="Distances">Per cluster, ||x - mu_c||.</param>
/// <param name="Margin">(delta_2 - delta_1) / delta_2, the nearest cluster's relative lead over the second; 1 when the catalog has one cluster.</param>
/// <param name="AcceptanceRadius">The nearest cluster's acceptance radius.</param>
/// <param name="NoveltyScore">Distance to the nearest cluster over its acceptance radius; above 1 means novel. Infinite when the radius is 0 and the distance is not.</param>
public sealed record AssignmentDecision(
    AssignmentOutcome Outcome,
    int Nearest,
    string NearestName,
    int CatalogVersion,
    double[] WardIncreases,
    double[] Distances,
    double Margin,
    double AcceptanceRadius,
    double NoveltyScore)
{
    /// <summary>The cluster the image is counted in: the nearest one, or null when it is novel.</summary>
    public string? AssignedName => Outcome == AssignmentOutcome.Novel ? null : NearestName;
}
