using System.CommandLine;
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
        Clusters = new Option<int?>("--clusters", "-k") { Description = "Number of clusters K. Default: the number of label classes when labels exist.", HelpName = "K" };
        DistanceThreshold = new Option<double?>("--distance-threshold") { Description = "Cut the merge tree at this linkage distance instead of at K clusters.", HelpName = "t" };
        Linkage = new Option<string>("--linkage") { Description = "Agglomerative linkage.", DefaultValueFactory = _ => "ward", HelpName = "ward|average|complete|single" };
        Linkage.AcceptOnlyFromAmong(ClusteringOptionNames.Linkages);
        Seed = new Option<int>("--seed") { Description = "Seed of every random choice (reference sampling, normal-image subset).", DefaultValueFactory = _ => 0 };
        Out = new Option<string>("--out", "-o") { Description = "Folder for clusters.csv and result.json.", DefaultValueFactory = _ => defaultOutput, HelpName = "dir" };
    }

    /// <summary><c>--clusters</c> / <c>-k</c>.</summary>
    public Option<int?> Clusters { get; }

    /// <summary><c>--distance-threshold</c>.</summary>
    public Option<double?> DistanceThreshold { get; }

    /// <summary><c>--linkage</c>.</summary>
    public Option<string> Linkage { get; }

    /// <summary><c>--seed</c>.</summary>
    public Option<int> Seed { get; }

    /// <summary><c>--out</c> / <c>-o</c>.</summary>
    public Option<string> Out { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Clusters);
        command.Add(DistanceThreshold);
        command.Add(Linkage);
        command.Add(Seed);
        command.Add(Out);
    }

    /// <summary>
    /// The clustering part of the job options from the command line. Without labels the user must
    /// say how to cut the tree; with labels K defaults to the number of classes (in the pipeline).
    /// </summary>
    public ClusteringJobOptions Apply(ParseResult parseResult, ClusteringJobOptions options, bool hasLabels)
    {
        var clusters = parseResult.GetValue(Clusters);
        var threshold = parseResult.GetValue(DistanceThreshold);
        if (clusters is not null && threshold is not null)
        {
            throw new CliInputException("give either --clusters or --distance-threshold, not both.");
        }
        if (clusters is null && threshold is null && !hasLabels)
        {
            throw new CliInputException("the images have no labels, so say how many clusters to make: --clusters K, or cut by distance with --distance-threshold t.");
        }
        return options with
        {
            ClusterCount = clusters,
            DistanceThreshold = threshold,
            Linkage = ClusteringOptionNames.ParseLinkage(parseResult.GetValue(Linkage)!),
            Seed = parseResult.GetValue(Seed),
        };
    }
}
