using System.Globalization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Pipeline;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a job's clustering can take, known before any work starts: every submission path (the API's prefix listing and
/// upload, the coordinator, the CLI in embedded and remote mode) asks here, so that a job the clustering cannot finish is
/// refused at submit instead of after every image was embedded.
/// </summary>
public static class JobLimits
{
    /// <summary>
    /// The most images the clustering configured by <paramref name="options"/> can take. Today every linkage goes through
    /// the condensed distance matrix, whose N(N-1)/2 distances must fit one .NET array; a clustering that needs no such
    /// matrix (Core's memory-budgeted choice, once it exists) answers here and nowhere else.
    /// </summary>
    public static int MaxClusteredImages(ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CondensedDistanceMatrix.MaxPointCount;
    }

    /// <summary>Throws unless the clustering of <paramref name="options"/> can take <paramref name="imageCount"/> images.</summary>
    /// <exception cref="InvalidClusteringInputException">Too many images; the message names the limit and what to change.</exception>
    public static void CheckClustering(ClusteringJobOptions options, int imageCount)
    {
        var limit = MaxClusteredImages(options);
        if (imageCount > limit)
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
        var limit = MaxClusteredImages(options).ToString("N0", CultureInfo.InvariantCulture);
        return new InvalidClusteringInputException(
            $"the job has {howMany} to cluster, but {ClusteringOptionNames.Of(options.Linkage)} linkage clusters at most {limit} "
            + $"(the condensed distance matrix of N(N-1)/2 distances must fit one array); split the dataset into jobs of at most {limit} images.",
            "images");
    }
}
