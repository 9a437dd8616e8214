using System.CommandLine;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// The options shared by <c>cluster</c> and <c>cluster-vectors</c> (number of clusters, linkage,
/// seed, output folder), defined once so both commands spell and document them the same way.
/// </summary>
internal sealed class ClusteringOptionSet
{
    /// <summary>Creates the options with their descriptions and defaults.</summary>
    public ClusteringOptionSet(string defaultOutput)
    {
        Clusters = new Option<string?>("--clusters", "-k")
        {
            Description = "Number of clusters K, or 'auto' to find K from the merge tree (--cluster-criterion). Default: the number of label classes when labels exist, auto otherwise.",
            HelpName = "K|auto",
        };
        ClusterCriterion = new Option<string>("--cluster-criterion")
        {
            Description = "How 'auto' finds K: the largest mean silhouette (on a seeded sample of 2,000 images), Calinski-Harabasz index or relative gap in merge heights.",
            DefaultValueFactory = _ => ClusteringOptionNames.Of(new ClusteringJobOptions().ClusterCountCriterion),
            HelpName = string.Join('|', ClusteringOptionNames.ClusterCountCriteria),
        };
        ClusterCriterion.AcceptOnlyFromAmong(ClusteringOptionNames.ClusterCountCriteria);
        MinClusters = new Option<int>("--min-clusters") { Description = "The smallest K that 'auto' tries.", DefaultValueFactory = _ => new ClusteringJobOptions().MinimumClusterCount, HelpName = "K" };
        MaxClusters = new Option<int>("--max-clusters") { Description = "The largest K that 'auto' tries (at most the number of images - 1).", DefaultValueFactory = _ => new ClusteringJobOptions().MaximumClusterCount, HelpName = "K" };
        DistanceThreshold = new Option<double?>("--distance-threshold") { Description = "Cut the merge tree at this linkage distance instead of at K clusters.", HelpName = "t" };
        Linkage = new Option<string>("--linkage") { Description = "Agglomerative linkage.", DefaultValueFactory = _ => "ward", HelpName = "ward|average|complete|single" };
        Linkage.AcceptOnlyFromAmong(ClusteringOptionNames.Linkages);
        Seed = new Option<int>("--seed") { Description = "Seed of every random choice (reference sampling, normal-image subset).", DefaultValueFactory = _ => 0 };
        MemoryBudget = new Option<double>("--memory-budget")
        {
            Description = "Most memory (GiB) the clustering may use besides the embeddings: the distance matrix while it fits, then exact Ward in linear memory, then two-stage Ward.",
            DefaultValueFactory = _ => ClusteringAlgorithmChoice.DefaultMemoryBudgetBytes / (double)(1L << 30),
            HelpName = "GiB",
        };
        Algorithm = new Option<string?>("--algorithm") { Description = "Force a clustering algorithm instead of choosing by the memory budget.", HelpName = string.Join("|", ClusteringOptionNames.Algorithms) };
        Algorithm.AcceptOnlyFromAmong(ClusteringOptionNames.Algorithms);
        Out = new Option<string>("--out", "-o") { Description = "Folder for clusters.csv and result.json.", DefaultValueFactory = _ => defaultOutput, HelpName = "dir" };
    }

    /// <summary><c>--clusters</c> / <c>-k</c>: K or <c>auto</c>.</summary>
    public Option<string?> Clusters { get; }

    /// <summary><c>--cluster-criterion</c>.</summary>
    public Option<string> ClusterCriterion { get; }

    /// <summary><c>--min-clusters</c>.</summary>
    public Option<int> MinClusters { get; }

    /// <summary><c>--max-clusters</c>.</summary>
    public Option<int> MaxClusters { get; }

    /// <summary><c>--distance-threshold</c>.</summary>
    public Option<double?> DistanceThreshold { get; }

    /// <summary><c>--linkage</c>.</summary>
    public Option<string> Linkage { get; }

    /// <summary><c>--seed</c>.</summary>
    public Option<int> Seed { get; }

    /// <summary><c>--memory-budget</c>, in GiB.</summary>
    public Option<double> MemoryBudget { get; }

    /// <summary><c>--algorithm</c>.</summary>
    public Option<string?> Algorithm { get; }

    /// <summary><c>--out</c> / <c>-o</c>.</summary>
    public Option<string> Out { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Clusters);
        command.Add(ClusterCriterion);
        command.Add(MinClusters);
        command.Add(MaxClusters);
        command.Add(DistanceThreshold);
        command.Add(Linkage);
        command.Add(Seed);
        command.Add(MemoryBudget);
        command.Add(Algorithm);
        command.Add(Out);
    }

    /// <summary>
    /// The clustering part of the job options from the command line. With labels K defaults to the
    /// number of classes, without them it is found from the merge tree (both in the pipeline).
    /// </summary>
    public ClusteringJobOptions Apply(ParseResult parseResult, ClusteringJobOptions options)
    {
        var (clusters, automatic) = ParseClusters(parseResult.GetValue(Clusters));
        var threshold = parseResult.GetValue(DistanceThreshold);
        if ((clusters is not null || automatic) && threshold is not null)
        {
            throw new CliInputException("give either --clusters or --distance-threshold, not both.");
        }
        return options with
        {
            ClusterCount = clusters,
            AutomaticClusterCount = automatic,
            ClusterCountCriterion = ClusteringOptionNames.ParseClusterCountCriterion(parseResult.GetValue(ClusterCriterion)!),
            MinimumClusterCount = parseResult.GetValue(MinClusters),
            MaximumClusterCount = parseResult.GetValue(MaxClusters),
            DistanceThreshold = threshold,
            Linkage = ClusteringOptionNames.ParseLinkage(parseResult.GetValue(Linkage)!),
            Seed = parseResult.GetValue(Seed),
            ClusteringMemoryBudgetBytes = MemoryBudgetBytes(parseResult.GetValue(MemoryBudget)),
            Algorithm = parseResult.GetValue(Algorithm) is { } algorithm ? ClusteringOptionNames.ParseAlgorithm(algorithm) : null,
        };
    }

    private static long MemoryBudgetBytes(double gibibytes)
    {
        if (!double.IsFinite(gibibytes) || gibibytes < 1.0 / 1024 || gibibytes > 1 << 20)
        {
            throw new CliInputException($"--memory-budget is {gibibytes} GiB; give a number of GiB between 0.001 and 1048576 (default 2).");
        }
        return (long)(gibibytes * (1L << 30));
    }

    /// <summary>Reads <c>--clusters</c>: a positive whole number K, or <c>auto</c>.</summary>
    private static (int? Clusters, bool Automatic) ParseClusters(string? value)
    {
        if (value is null)
        {
            return (null, false);
        }
        if (string.Equals(value, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return (null, true);
        }
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k) && k >= 1)
        {
            return (k, false);
        }
        throw new CliInputException($"--clusters is '{value}'; give a whole number of clusters K >= 1, or 'auto'.");
    }
}
