using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// Everything that decides a clustering job's result besides its images: weighting mode and
/// temperature, how many clusters, linkage, reference sampling, seed and embedding sizes. Names
/// follow scikit-learn where the concept is the same (<c>linkage</c>, <c>n_clusters</c>,
/// <c>distance_threshold</c>).
/// </summary>
public sealed record ClusteringJobOptions
{
    /// <summary>How patch weights are found; unsupervised by default (no normal images needed).</summary>
    public ClusteringMode Mode { get; init; } = ClusteringMode.Unsupervised;

    /// <summary>
    /// Softmax temperature tau of the patch weights; 0 puts all weight on the top-scoring patch. 0.3 by default: the
    /// scores are distances whose spread grows with <see cref="TargetDimension"/>; at T = 256 on magnetic tile with
    /// whole (stretched) images, tau 0.3 was best in both modes (docs/RESULTS.md, tuning runs).
    /// </summary>
    public double Tau { get; init; } = 0.3;

    /// <summary>
    /// Number of clusters K; null with no <see cref="DistanceThreshold"/> means the number of label classes, or K found
    /// automatically (<see cref="AutomaticClusterCount"/>) when the images have no labels.
    /// </summary>
    public int? ClusterCount { get; init; }

    /// <summary>
    /// Find K from the merge tree by <see cref="ClusterCountCriterion"/> within <see cref="MinimumClusterCount"/>..
    /// <see cref="MaximumClusterCount"/> (<c>--clusters auto</c>), even when labels would give it. Without labels, K and a
    /// threshold this is what happens anyway.
    /// </summary>
    public bool AutomaticClusterCount { get; init; }

    /// <summary>The label-free criterion that finds K; the silhouette (on a seeded sample of at most 2,000 images) by default (docs/RESULTS.md).</summary>
    public ClusterCountCriterion ClusterCountCriterion { get; init; } = ClusterCountCriterion.Silhouette;

    /// <summary>The smallest K an automatic search tries.</summary>
    public int MinimumClusterCount { get; init; } = 2;

    /// <summary>The largest K an automatic search tries (clipped to the number of images - 1).</summary>
    public int MaximumClusterCount { get; init; } = 20;

    /// <summary>The automatic search these options imply (the silhouette sample drawn with <see cref="Seed"/>).</summary>
    public ClusterCountSearch ClusterCountSearch => new()
    {
        Criterion = ClusterCountCriterion,
        MinimumClusterCount = MinimumClusterCount,
        MaximumClusterCount = MaximumClusterCount,
        Seed = Seed,
    };

    /// <summary>Cut the merge tree at this height instead of at K clusters.</summary>
    public double? DistanceThreshold { get; init; }

    /// <summary>Agglomerative linkage; Ward reproduces the paper.</summary>
    public LinkageMethod Linkage { get; init; } = LinkageMethod.Ward;

    /// <summary>
    /// Reference images R for unsupervised scores (METHOD section 7); 0 compares with every other image (exact).
    /// 16 by default: exact scores cost O(N^2) image pairs, far too slow beyond a few hundred images (docs/RESULTS.md).
    /// </summary>
    public int ReferenceCount { get; init; } = 16;

    /// <summary>
    /// At most this many normal images feed semi-supervised scores, a seeded random subset (by <see cref="Seed"/>) when
    /// there are more; 0 uses all. The cost grows linearly with it (O(N N_normal M^2 T)), the benefit saturates (docs/RESULTS.md).
    /// </summary>
    public int NormalImageLimit { get; init; } = 64;

    /// <summary>
    /// Semi-supervised: the normal bank is PatchCore's greedy coreset keeping this fraction of the normal patches (METHOD
    /// section 7), selected with <see cref="Seed"/>; 0 (the default) keeps every patch. Scoring costs O(N M C T) for C kept
    /// patches instead of O(N M P T), the selection O(P C D) once per job (D = 128); PatchCore uses 0.1 or 0.01.
    /// </summary>
    public double CoresetFraction { get; init; }

    /// <summary>
    /// Detect, then cluster (semi-supervised only): the images whose anomaly score is at or under the job's label-free
    /// detection threshold form one cluster, and the tree is built over the others, so a cut into K gives that group plus
    /// K - 1 clusters of the rest (<see cref="AnomalyClustering.Core.Clustering.DetectedGoodTree"/>). Off by default: on
    /// the three shared datasets it lost to plain clustering (docs/RESULTS.md, "Detect, then cluster").
    /// </summary>
    public bool DetectThenCluster { get; init; }

    /// <summary>Seed of every random choice of the job (the reference sample, the normal-image subset).</summary>
    public int Seed { get; init; }

    /// <summary>Per-layer dimension P after the first adaptive pooling (METHOD section 1 step 3).</summary>
    public int PretrainDimension { get; init; } = 1024;

    /// <summary>
    /// Patch embedding dimension T (METHOD section 1 step 4). 256 by default: every score costs O(T), and on magnetic
    /// tile T = 1024 did not cluster better (docs/RESULTS.md, tuning runs).
    /// </summary>
    public int TargetDimension { get; init; } = 256;

    /// <summary>
    /// The patch size k (PatchCore's <c>patchsize</c>, METHOD section 1 step 3): every position aggregates its k x k
    /// neighbourhood; odd. 3 as in the reference; the work and memory of the aggregation grow as k^2.
    /// </summary>
    public int PatchSize { get; init; } = 3;

    /// <summary>Per-image LayerNorm of every feature map before aggregation (the reference applies it).</summary>
    public bool LayerNorm { get; init; } = true;

    /// <summary>Images per backbone run.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Images wider or taller than this many pixels are refused (reported per image) instead of decoded.</summary>
    public int MaxImageDimension { get; init; } = 8192;

    /// <summary>Threads for the scoring kernels; -1 uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>The thread count <see cref="MaxDegreeOfParallelism"/> stands for: every core for -1.</summary>
    public int ThreadCount() => MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : MaxDegreeOfParallelism;

    /// <summary>
    /// The most working memory the clustering stage may use, in bytes (besides the N x D embeddings): the distance matrix is
    /// used while it fits, then exact linear-memory Ward, then two-stage Ward (<see cref="ClusteringAlgorithmChoice"/>).
    /// 2 GiB by default, half of the coordinator pod's 4 GiB.
    /// </summary>
    public long ClusteringMemoryBudgetBytes { get; init; } = ClusteringAlgorithmChoice.DefaultMemoryBudgetBytes;

    /// <summary>Forces one clustering algorithm instead of choosing by the memory budget; null (the default) chooses.</summary>
    public ClusteringAlgorithm? Algorithm { get; init; }

    /// <summary>The patch embedding settings these options imply.</summary>
    public PatchEmbeddingOptions PatchEmbedding => new()
    {
        LayerNorm = LayerNorm,
        PretrainDimension = PretrainDimension,
        TargetDimension = TargetDimension,
        NeighbourhoodSize = PatchSize,
    };

    /// <summary>Checks every value that does not depend on the dataset.</summary>
    /// <exception cref="InvalidClusteringInputException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (!double.IsFinite(Tau) || Tau < 0)
        {
            throw new InvalidClusteringInputException($"tau is {Tau}; the softmax temperature must be a finite number >= 0 (the paper uses 1 or 2).", nameof(Tau));
        }
        if (ClusterCount is not null && DistanceThreshold is not null)
        {
            throw new InvalidClusteringInputException("give either the number of clusters or a distance threshold, not both.", nameof(ClusterCount));
        }
        if (AutomaticClusterCount && (ClusterCount is not null || DistanceThreshold is not null))
        {
            throw new InvalidClusteringInputException("give either automatic clusters, a number of clusters or a distance threshold, not two of them.", nameof(AutomaticClusterCount));
        }
        ClusterCountSearch.Validate();
        if (ClusterCount is < 1)
        {
            throw new InvalidClusteringInputException($"the number of clusters is {ClusterCount}; it must be at least 1.", nameof(ClusterCount));
        }
        if (DistanceThreshold is { } threshold && (!double.IsFinite(threshold) || threshold < 0))
        {
            throw new InvalidClusteringInputException($"the distance threshold is {threshold}; it must be a finite number >= 0.", nameof(DistanceThreshold));
        }
        if (ReferenceCount < 0)
        {
            throw new InvalidClusteringInputException($"the reference count is {ReferenceCount}; use 0 for exact scores or a positive number of reference images.", nameof(ReferenceCount));
        }
        if (NormalImageLimit < 0)
        {
            throw new InvalidClusteringInputException($"the normal image limit is {NormalImageLimit}; use 0 for all normal images or a positive number.", nameof(NormalImageLimit));
        }
        if (CoresetFraction != 0 && !(CoresetFraction > 0 && CoresetFraction <= 1))
        {
            throw new InvalidClusteringInputException($"the coreset fraction is {CoresetFraction}; use 0 for the whole normal bank or a fraction in (0, 1] (PatchCore uses 0.1 or 0.01).", nameof(CoresetFraction));
        }
        if (DetectThenCluster && Mode != ClusteringMode.SemiSupervised)
        {
            throw new InvalidClusteringInputException(
                $"detect-then-cluster needs semi-supervised mode (its threshold comes from the normal images' own scores); the mode is {ClusteringOptionNames.Of(Mode)}.", nameof(DetectThenCluster));
        }
        if (!Enum.IsDefined(Mode))
        {
            throw new InvalidClusteringInputException($"unknown mode {Mode}.", nameof(Mode));
        }
        if (!Enum.IsDefined(Linkage))
        {
            throw new InvalidClusteringInputException($"unknown linkage {Linkage}.", nameof(Linkage));
        }
        Guard.AtLeast(BatchSize, 1, "batch size");
        Guard.AtLeast(MaxImageDimension, 1, "maximum image dimension");
        if (MaxDegreeOfParallelism is 0 or < -1)
        {
            throw new InvalidClusteringInputException($"the thread count is {MaxDegreeOfParallelism}; use -1 for all cores or a positive number.", nameof(MaxDegreeOfParallelism));
        }
        if (ClusteringMemoryBudgetBytes < 1L << 20)
        {
            throw new InvalidClusteringInputException($"the clustering memory budget is {ClusteringMemoryBudgetBytes} bytes; give at least 1 MiB.", nameof(ClusteringMemoryBudgetBytes));
        }
        if (Algorithm is { } algorithm && !Enum.IsDefined(algorithm))
        {
            throw new InvalidClusteringInputException($"unknown clustering algorithm {algorithm}.", nameof(Algorithm));
        }
        if (Algorithm is ClusteringAlgorithm.LinearMemoryWard or ClusteringAlgorithm.TwoStageWard or ClusteringAlgorithm.RefinedTwoStageWard && Linkage != LinkageMethod.Ward)
        {
            throw new InvalidClusteringInputException($"the {ClusteringOptionNames.Of(Algorithm.Value)} algorithm builds Ward trees only; use --linkage ward or the distance-matrix algorithm.", nameof(Algorithm));
        }
        PatchEmbedding.Validate();
    }
}
