using System.CommandLine;
using AnomalyClustering.Cli.Commands;

namespace AnomalyClustering.Cli.Remote;

/// <summary>The options of <c>cluster</c> that send the job to a server instead of running it here: <c>--server</c>, <c>--backbone-name</c>.</summary>
internal sealed class RemoteOptionSet
{
    /// <summary>Creates the options with their descriptions.</summary>
    public RemoteOptionSet()
    {
        Server = new Option<string?>("--server")
        {
            Description = "Run the job on an anomaly-clustering server (its HTTP API, e.g. http://host:8080): the images are uploaded, the outputs written here.",
            HelpName = "url",
        };
        BackboneName = new Option<string?>("--backbone-name")
        {
            Description = "With --server: a backbone of the server's catalog (model files cannot be uploaded). Default: the built-in backbone.",
            HelpName = "name",
        };
    }

    /// <summary><c>--token</c>, <c>--token-audience</c>.</summary>
    public BearerTokenOptions Credentials { get; } = new();

    /// <summary><c>--server</c>.</summary>
    public Option<string?> Server { get; }

    /// <summary><c>--backbone-name</c>.</summary>
    public Option<string?> BackboneName { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Server);
        command.Add(BackboneName);
        Credentials.AddTo(command);
    }

    /// <summary>True when the command line asks for a remote run.</summary>
    /// <exception cref="CliInputException"><c>--backbone-name</c>, <c>--token</c> or <c>--token-audience</c> without <c>--server</c>.</exception>
    public bool IsRequested(ParseResult parseResult)
    {
        if (parseResult.GetValue(Server) is not null)
        {
            return true;
        }
        if (parseResult.GetValue(BackboneName) is not null)
        {
            throw new CliInputException("--backbone-name names a backbone of a server's catalog; it goes with --server (locally, use --model or --backbone).");
        }
        if (Given(parseResult, Credentials.Token) || Given(parseResult, Credentials.Audience))
        {
            throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server (a local run needs no token).");
        }
        return false;
    }

    /// <summary>
    /// Refuses the options that decide how a local run works (the backbone files, preprocessing, runtime): on a server the
    /// backbone comes from its catalog and the runtime from its configuration.
    /// </summary>
    /// <exception cref="CliInputException">Such an option was given.</exception>
    public static void RefuseLocalOnlyOptions(ParseResult parseResult, ImageJobOptionSet image, ClusteringOptionSet clustering)
    {
        if (Given(parseResult, clustering.MemoryBudget))
        {
            throw new CliInputException(
                "--memory-budget applies to local runs only; a server clusters within its own budget (its operator sets AnomalyClustering__Coordinator__ClusteringMemoryBudgetBytes).");
        }
        if (Given(parseResult, image.Model) || Given(parseResult, image.Backbone) || Given(parseResult, image.FeatureOutputs))
        {
            throw new CliInputException(
                "--model, --backbone and --feature-output name local files, which a server cannot read; with --server choose a backbone of the server's catalog with --backbone-name NAME (its administrator lists them in AnomalyClustering__Backbones__Catalog__NAME).");
        }
        foreach (var option in new Option[] { image.ResizeMode, image.Resize, image.Crop, image.ExecutionProvider, image.Threads, image.BatchSize })
        {
            if (Given(parseResult, option))
            {
                throw new CliInputException(
                    $"{option.Name} applies to local runs only; with --server the backbone's description (of the server's catalog) fixes the preprocessing and the server's configuration the runtime.");
            }
        }
    }

    private static bool Given(ParseResult parseResult, Option option) => parseResult.GetResult(option) is { Implicit: false };
}
