using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// The decisions of a job's plan that depend only on its options and dataset: whether it can run at all, which normal
/// images semi-supervised scores use, and whether unsupervised scores use a reference sample. Job coordinators and the
/// CLI decide through these, so that a job is planned the same way everywhere.
/// </summary>
public static class JobPlan
{
    /// <summary>
    /// The normal images of <paramref name="normalImages"/> that semi-supervised scores with <paramref name="options"/> use, in
    /// the given order. Selecting again from the result gives the result: a client may send only these and get the same job.
    /// </summary>
    public static IReadOnlyList<T> SelectNormalImages<T>(IReadOnlyList<T> normalImages, ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(normalImages);
        ArgumentNullException.ThrowIfNull(options);
        return SelectNormalImageIndices(normalImages.Count, options.NormalImageLimit, options.Seed).Select(index => normalImages[index]).ToArray();
    }

    /// <summary>
    /// Which of <paramref name="count"/> normal images semi-supervised scores use: all of them up to <paramref name="limit"/>
    /// (0: no limit), otherwise a uniformly random subset of that size drawn with <paramref name="seed"/> (the partial
    /// Fisher-Yates shuffle of the reference sample), ascending. O(count).
    /// </summary>
    public static int[] SelectNormalImageIndices(int count, int limit, int seed)
    {
        if (limit == 0 || count <= limit)
        {
            return Enumerable.Range(0, count).ToArray();
        }
        // The pool holds min(limit + 1, N) > limit entries; its first `limit` are a uniform random subset.
        return ReferenceSample.Draw(count, limit, unchecked((ulong)seed)).Pool.Take(limit).Order().ToArray();
    }

    /// <summary>
    /// The job's normal-bank coreset (<see cref="ClusteringJobOptions.CoresetFraction"/> of the patches of
    /// <paramref name="normalBags"/>, the usable normal images in the job's order), selected with the job seed: the same job
    /// gets the same bank on every worker. O(P T D + P C D) (P normal patches, C kept, D = 128).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The fraction is outside (0, 1], or the bags are unusable.</exception>
    public static NormalCoreset SelectNormalCoreset(IReadOnlyList<PatchBag> normalBags, double coresetFraction, int seed, int maxDegreeOfParallelism = -1) =>
        // Its own stream of the seed: the normal-image subset and the reference sample draw from the plain seed.
        NormalBankCoreset.Select(normalBags, coresetFraction, unchecked((ulong)seed) ^ CoresetSeedSalt, maxDegreeOfParallelism: maxDegreeOfParallelism);

    /// <summary>"CORESET" in ASCII, mixed into the job seed for the coreset's random choices.</summary>
    private const ulong CoresetSeedSalt = 0x434F5245534554UL;

    /// <summary>
    /// Throws unless <paramref name="options"/> can run on <paramref name="dataset"/> at all: semi-supervised mode needs normal
    /// images, the cut needs K (or labels) with K at most the number of images, and the clustering must take that many images
    /// (<see cref="JobLimits.CheckClustering"/>). Job coordinators and the CLI check
    /// through this, so that a job is refused for the same reasons everywhere.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The dataset and options do not fit; the message says why.</exception>
    public static void CheckDataset(ClusteringJobOptions options, ClusteringDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        CheckCounts(options, dataset.Images.Count, dataset.NormalImages.Count, dataset.HasLabels ? dataset.ClassNames.Count : null);
    }

    /// <summary>
    /// <see cref="CheckDataset"/> from the dataset's counts alone: <paramref name="imageCount"/> images,
    /// <paramref name="normalImageCount"/> normal images and <paramref name="classCount"/> label classes (null: unlabelled).
    /// O(1), so that a coordinator checks a job of any size at submit without its image list.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The counts and options do not fit; the message says why.</exception>
    public static void CheckCounts(ClusteringJobOptions options, int imageCount, int normalImageCount, int? classCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mode == ClusteringMode.SemiSupervised && normalImageCount == 0)
        {
            throw new InvalidClusteringInputException("semi-supervised mode needs normal (defect-free) images; none were given.", "dataset");
        }
        EmbeddingClustering.CheckClusterCount(options, imageCount, classCount);
        JobLimits.CheckClustering(options, imageCount);
    }

    /// <summary>
    /// True when unsupervised scores of <paramref name="imageCount"/> usable images compare each image with a seeded sample of
    /// R reference images (METHOD section 7); false when they compare with every other image (R = 0, or R >= N - 1), or the
    /// mode has no unsupervised scores.
    /// </summary>
    public static bool UsesReferenceSample(ClusteringJobOptions options, int imageCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Mode == ClusteringMode.Unsupervised && options.ReferenceCount != 0 && options.ReferenceCount < imageCount - 1;
    }
}
