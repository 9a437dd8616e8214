using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>How the number of clusters K is found when nobody gives it: the criterion, the range of K and the silhouette sample.</summary>
public sealed record ClusterCountSearch
{
    /// <summary>The smallest K tried (at least 2).</summary>
    public int MinimumClusterCount { get; init; } = 2;

    /// <summary>The largest K tried; clipped to N - 1 (every criterion needs two points in some cluster).</summary>
    public int MaximumClusterCount { get; init; } = 20;

    /// <summary>The criterion whose largest value picks K.</summary>
    public ClusterCountCriterion Criterion { get; init; } = ClusterCountCriterion.Silhouette;

    /// <summary>
    /// The silhouette is computed on at most this many points (a seeded uniform sample; all points when N is smaller), which
    /// bounds its O(S^2) memory and O(S^2 D) time whatever N is: 2,000 points hold a 32 MB distance matrix.
    /// </summary>
    public int SilhouetteSampleSize { get; init; } = 2000;

    /// <summary>Seed of the silhouette sample.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the range and the sample size.</summary>
    /// <exception cref="InvalidClusteringInputException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MinimumClusterCount < 2 || MaximumClusterCount < MinimumClusterCount)
        {
            throw new InvalidClusteringInputException(
                $"the automatic cluster range is {MinimumClusterCount}..{MaximumClusterCount}; it must start at 2 or more and not end before it starts.",
                nameof(MinimumClusterCount));
        }
        if (!Enum.IsDefined(Criterion))
        {
            throw new InvalidClusteringInputException($"unknown cluster count criterion {Criterion}.", nameof(Criterion));
        }
        Guard.AtLeast(SilhouetteSampleSize, 3, "silhouette sample size");
    }
}
