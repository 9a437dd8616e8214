using System.CommandLine;
using AnomalyClustering.Cli.Embedded;

namespace AnomalyClustering.Cli.Lines;

/// <summary>The <c>--store</c> option of the line commands: the same local store as the embedded cluster's.</summary>
internal static class LineStoreOption
{
    /// <summary>A new instance of the option (each command owns its own).</summary>
    public static Option<string?> Create() => new("--store")
    {
        Description = $"Local store folder; lines live in its lines/ folder. Default: {EmbeddedCluster.DefaultStoreFolder}.",
        HelpName = "dir",
    };
}
