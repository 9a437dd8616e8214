using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>The scores of one category (e.g. MVTec "bottle") and the group it is reported in (e.g. "objects").</summary>
/// <param name="Category">Category name.</param>
/// <param name="Group">Group name used for averaging (e.g. "objects", "textures").</param>
/// <param name="ImageCount">Images clustered in this category: the weight of its scores.</param>
/// <param name="NormalizedMutualInformation">NMI of the category.</param>
/// <param name="AdjustedRandIndex">ARI of the category.</param>
/// <param name="HungarianF1">Hungarian F1 of the category.</param>
public readonly record struct CategoryScores(
    string Category,
    string Group,
    int ImageCount,
    double NormalizedMutualInformation,
    double AdjustedRandIndex,
    double HungarianF1)
{
    /// <summary>The category's scores from its evaluation; the image count is the number of evaluated items.</summary>
    public static CategoryScores From(string category, string group, ClusteringScores scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return new CategoryScores(category, group, scores.Contingency.SampleCount,
            scores.NormalizedMutualInformation, scores.AdjustedRandIndex, scores.HungarianF1);
    }
}

/// <summary>Image-count-weighted averages of the scores of several categories (one group, or all).</summary>
/// <param name="Group">Group name.</param>
/// <param name="CategoryCount">Categories averaged.</param>
/// <param name="ImageCount">Images over all those categories: the total weight.</param>
/// <param name="NormalizedMutualInformation">Weighted mean NMI.</param>
/// <param name="AdjustedRandIndex">Weighted mean ARI.</param>
/// <param name="HungarianF1">Weighted mean Hungarian F1.</param>
public sealed record GroupScores(
    string Group,
    int CategoryCount,
    long ImageCount,
    double NormalizedMutualInformation,
    double AdjustedRandIndex,
    double HungarianF1);

/// <summary>
/// Averages per-category scores weighted by image count (METHOD.md section 5: "objects" and
/// "textures" means), rounding as numpy.average(scores, weights=counts). O(categories).
/// </summary>
public static class GroupAverage
{
    /// <summary>sum(score_i * count_i) / sum(count_i).</summary>
    /// <exception cref="InvalidClusteringInputException">No scores, lengths differ, a score is not finite, or a count is below 1.</exception>
    public static double Weighted(ReadOnlySpan<double> scores, ReadOnlySpan<int> imageCounts)
    {
        if (scores.IsEmpty)
        {
            throw new InvalidClusteringInputException("no category scores to average; give at least one category.", nameof(scores));
        }
        Guard.Length(imageCounts.Length, scores.Length, "image counts");
        Guard.Finite(scores, "category scores");
        var products = new double[scores.Length];
        var weights = new double[scores.Length];
        for (var i = 0; i < scores.Length; i++)
        {
            Guard.AtLeast(imageCounts[i], 1, $"image count of category {i}");
            products[i] = scores[i] * imageCounts[i];
            weights[i] = imageCounts[i];
        }
        return PairwiseSummation.Sum(products) / PairwiseSummation.Sum(weights);
    }

    /// <summary>The weighted averages of all given categories, reported under <paramref name="group"/>.</summary>
    /// <exception cref="InvalidClusteringInputException">No categories, a score is not finite, or an image count is below 1.</exception>
    public static GroupScores Of(string group, IEnumerable<CategoryScores> categories)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(categories);
        var list = categories as IReadOnlyList<CategoryScores> ?? categories.ToList();
        var counts = new int[list.Count];
        var nmi = new double[list.Count];
        var ari = new double[list.Count];
        var f1 = new double[list.Count];
        long images = 0;
        for (var i = 0; i < list.Count; i++)
        {
            counts[i] = list[i].ImageCount;
            nmi[i] = list[i].NormalizedMutualInformation;
            ari[i] = list[i].AdjustedRandIndex;
            f1[i] = list[i].HungarianF1;
            images += list[i].ImageCount;
        }
        return new GroupScores(group, list.Count, images, Weighted(nmi, counts), Weighted(ari, counts), Weighted(f1, counts));
    }

    /// <summary>One weighted average per distinct <see cref="CategoryScores.Group"/>, in order of first appearance.</summary>
    /// <exception cref="InvalidClusteringInputException">No categories, a group name is missing, a score is not finite, or an image count is below 1.</exception>
    public static IReadOnlyList<GroupScores> ByGroup(IEnumerable<CategoryScores> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var groups = new List<(string Name, List<CategoryScores> Members)>();
        foreach (var category in categories)
        {
            if (string.IsNullOrEmpty(category.Group))
            {
                throw new InvalidClusteringInputException($"category '{category.Category}' has no group; name its group (e.g. \"objects\").", nameof(categories));
            }
            var index = groups.FindIndex(g => g.Name == category.Group);
            if (index < 0)
            {
                groups.Add((category.Group, [category]));
            }
            else
            {
                groups[index].Members.Add(category);
            }
        }
        if (groups.Count == 0)
        {
            throw new InvalidClusteringInputException("no category scores to average; give at least one category.", nameof(categories));
        }
        return groups.Select(g => Of(g.Name, g.Members)).ToList();
    }
}
