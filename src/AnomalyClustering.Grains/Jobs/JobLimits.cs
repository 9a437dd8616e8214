using System.Globalization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a job's clustering can take, known before any work starts: every submission path (the API's prefix listing and
/// upload, the coordinator, the CLI in embedded and remote mode) asks here, so that a job the clustering cannot finish is
/// refused at submit instead of after every image was embedded. The answer is Core's memory-budgeted algorithm choice
/// (<see cref="ClusteringAlgorithmChoice.For(int, int, LinkageMethod, long, ClusteringAlgorithm?)"/>) for the job's linkage, embedding dimension and clustering memory budget.
/// </summary>
public static class JobLimits
{
    /// <summary>
    /// The most images the clustering configured by <paramref name="options"/> can take: the largest N that
    /// <see cref="ClusteringAlgorithmChoice.For(int, int, LinkageMethod, long, ClusteringAlgorithm?)"/> accepts (the distance matrix's budget for average, complete and single;
    /// two-stage Ward's for ward). O(log N) probes, microseconds.
    /// </summary>
    public static int MaxClusteredImages(ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Every algorithm's memory grows with N, so the accepted counts form a prefix: binary search its end.
        int low = 2, high = int.MaxValue - 1;
        while (low < high)
        {
            var middle = low + (high - low + 1) / 2;
            if (Fits(options, middle))
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }
        return low;
    }

    /// <summary>Throws unless the clustering of <paramref name="options"/> can take <paramref name="imageCount"/> images.</summary>
    /// <exception cref="InvalidClusteringInputException">Too many images; the message names the limit and what to change.</exception>
    public static void CheckClustering(ClusteringJobOptions options, int imageCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (imageCount >= 2 && !Fits(options, imageCount))
        {
            throw TooManyImages(options, imageCount.ToString("N0", CultureInfo.InvariantCulture) + " images");
        }
    }

    /// <summary>
    /// The refusal of a job with more images than <see cref="MaxClusteredImages"/>; <paramref name="howMany"/> says how many
    /// (a count, or "more than N images" when a listing stopped early).
    /// </summary>
    public static InvalidClusteringInputException TooManyImages(ClusteringJobOptions options, string howMany)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limit = MaxClusteredImages(options);
        string why;
        try
        {
            ClusteringAlgorithmChoice.For(limit + 1, options.TargetDimension, options.Linkage, options.ClusteringMemoryBudgetBytes, options.Algorithm);
            why = "";
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

    private static bool Fits(ClusteringJobOptions options, int count)
    {
        try
        {
            ClusteringAlgorithmChoice.For(count, options.TargetDimension, options.Linkage, options.ClusteringMemoryBudgetBytes, options.Algorithm);
            return true;
        }
        catch (InvalidClusteringInputException)
        {
            return false;
        }
    }
}
