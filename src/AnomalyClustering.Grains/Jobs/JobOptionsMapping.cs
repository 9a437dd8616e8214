using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>Maps the wire form of job options to the pipeline's options, and back.</summary>
public static class JobOptionsMapping
{
    /// <summary>
    /// The pipeline options of <paramref name="options"/>, validated, clustering within <paramref name="clusteringMemoryBudgetBytes"/>
    /// (the coordinator's <see cref="CoordinatorOptions.ClusteringMemoryBudgetBytes"/>: a server setting a client cannot raise).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">A name is unknown or a value out of range.</exception>
    public static ClusteringJobOptions ToPipelineOptions(JobOptions options, long clusteringMemoryBudgetBytes = ClusteringAlgorithmChoice.DefaultMemoryBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(options);
        var mapped = new ClusteringJobOptions
        {
            Mode = ClusteringOptionNames.ParseMode(options.Mode ?? "unsupervised"),
            Tau = options.Tau,
            ClusterCount = options.Clusters,
            AutomaticClusterCount = options.AutomaticClusters,
            ClusterCountCriterion = ClusteringOptionNames.ParseClusterCountCriterion(options.ClusterCountCriterion ?? "silhouette"),
            MinimumClusterCount = options.MinClusters,
            MaximumClusterCount = options.MaxClusters,
            DistanceThreshold = options.DistanceThreshold,
            Linkage = ClusteringOptionNames.ParseLinkage(options.Linkage ?? "ward"),
            ReferenceCount = options.Refs,
            NormalImageLimit = options.NormalLimit,
            CoresetFraction = options.Coreset,
            DetectThenCluster = options.DetectThenCluster,
            Seed = options.Seed,
            PretrainDimension = options.PretrainDimension,
            TargetDimension = options.TargetDimension,
            PatchSize = options.PatchSize,
            LayerNorm = options.LayerNorm,
            MaxImageDimension = options.MaxImageDimension,
            Algorithm = options.Algorithm is { } algorithm ? ClusteringOptionNames.ParseAlgorithm(algorithm) : null,
            ClusteringMemoryBudgetBytes = clusteringMemoryBudgetBytes,
        };
        mapped.Validate();
        return mapped;
    }

    /// <summary>The wire form of pipeline options (the fields a job carries).</summary>
    public static JobOptions FromPipelineOptions(ClusteringJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new JobOptions
        {
            Mode = ClusteringOptionNames.Of(options.Mode),
            Tau = options.Tau,
            Clusters = options.ClusterCount,
            AutomaticClusters = options.AutomaticClusterCount,
            ClusterCountCriterion = ClusteringOptionNames.Of(options.ClusterCountCriterion),
            MinClusters = options.MinimumClusterCount,
            MaxClusters = options.MaximumClusterCount,
            DistanceThreshold = options.DistanceThreshold,
            Linkage = ClusteringOptionNames.Of(options.Linkage),
            Refs = options.ReferenceCount,
            NormalLimit = options.NormalImageLimit,
            Coreset = options.CoresetFraction,
            DetectThenCluster = options.DetectThenCluster,
            Seed = options.Seed,
            PretrainDimension = options.PretrainDimension,
            TargetDimension = options.TargetDimension,
            PatchSize = options.PatchSize,
            LayerNorm = options.LayerNorm,
            MaxImageDimension = options.MaxImageDimension,
            Algorithm = options.Algorithm is { } algorithm ? ClusteringOptionNames.Of(algorithm) : null,
        };
    }
}
