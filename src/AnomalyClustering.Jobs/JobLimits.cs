using System.Globalization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// What a job's clustering can take, known before any work starts: Core's memory-budgeted algorithm choice
/// (<see cref="ClusteringAlgorithmChoice"/>) for the job's linkage, embedding dimension, requested algorithm and clustering
/// memory budget. <see cref="JobPlan.CheckDataset"/> applies it to every job (the coordinator's submit, the CLI); the API's
/// prefix listing asks <see cref="MaxClusteredImages"/> to stop early.
/// </summary>
public static class JobLimits
{
    /// <summary>The most images the clustering configured by <paramref name="options"/> can take. O(1).</summary>
    public static int MaxClusteredImages(ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ClusteringAlgorithmChoice.MaxPoints(options.TargetDimension, options.Linkage, options.ClusteringMemoryBudgetBytes, options.Algorithm);
    }

    /// <summary>Throws unless the clustering of <paramref name="options"/> can take <paramref name="imageCount"/> images.</summary>
    /// <exception cref="InvalidClusteringInputException">Too many images; the message names the limit and what to change.</exception>
    public static void CheckClustering(ClusteringJobOptions options, int imageCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (imageCount >= 2 && imageCount > MaxClusteredImages(options))
        {
            throw TooManyImages(options, imageCount.ToString("N0", CultureInfo.InvariantCulture) + " images");
        }
    }

    /// <summary>
    /// The refusal of a job with more images than <see cref="MaxClusteredImages"/>; <paramref name="howMany"/> says how many
    /// (a count, or "more than N images" when a listing stopped early). The reason is Core's refusal one image past the limit.
    /// </summary>
    public static InvalidClusteringInputException TooManyImages(ClusteringJobOptions options, string howMany)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limit = MaxClusteredImages(options);
        var why = "";
        try
        {
            ClusteringAlgorithmChoice.For(limit + 1, options.TargetDimension, options.Linkage, options.ClusteringMemoryBudgetBytes, options.Algorithm);
        }
        catch (InvalidClusteringInputException e)
        {
            why = " (" + e.Message.TrimEnd('.') + ")";
        }
        var limitText = limit.ToString("N0", CultureInfo.InvariantCulture);
        return new InvalidClusteringInputException(
            $"the job has {howMany} to cluster, but {ClusteringOptionNames.Of(options.Linkage)} linkage clusters at most {limitText} within the clustering memory budget{why}; "
            + $"split the dataset into jobs of at most {limitText} images, or change the linkage or the budget.",
            "images");
    }
}
