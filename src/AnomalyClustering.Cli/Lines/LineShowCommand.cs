using System.CommandLine;
using System.Globalization;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line show NAME</c>: a line's versions, and its newest (or a given) catalog: source, rule and clusters with their radii;
/// from the local line store, or from a server (<c>--server</c>, <c>GET /lines/{name}</c>).
/// </summary>
internal static class LineShowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line's name." };
        var version = new Option<int?>("--version") { Description = "The catalog version to show. Default: the newest.", HelpName = "n" };
        var store = LineStoreOption.Create();
        var remote = new RemoteOptionSet();
        var command = new Command("show", "Show a line's catalog: versions, source, rule, and per cluster its size, spread and acceptance radius.") { name, version, store, remote.Server };
        remote.Credentials.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var line = parseResult.GetValue(name)!;
            LocalLineStore.CheckName(line);
            if (parseResult.GetValue(remote.Server) is { } server)
            {
                if (parseResult.GetValue(store) is not null)
                {
                    throw new CliInputException("--store names the local store of embedded runs; with --server the server's store is used.");
                }
                using var client = new JobApiClient(JobApiClient.ParseServer(server), await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
                Write(console, await client.GetLineCatalogAsync(line, parseResult.GetValue(version), cancellationToken).ConfigureAwait(false));
                return CliExitCodes.Success;
            }
            if (parseResult.GetValue(remote.Credentials.Token) is not null || parseResult.GetValue(remote.Credentials.Audience) is not null)
            {
                throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server.");
            }
            var local = new LocalLineStore(parseResult.GetValue(store) ?? EmbeddedCluster.DefaultStoreFolder);
            Write(console, Shown(local.Read(line, parseResult.GetValue(version)), local.Versions(line)));
            return CliExitCodes.Success;
        });
        return command;
    }

    /// <summary>Prints a catalog: versions, source, rule, and a table of its defect types.</summary>
    public static void Write(CliConsole console, LineView catalog)
    {
        var invariant = CultureInfo.InvariantCulture;
        console.Out.MarkupLine($"line [bold]{Markup.Escape(catalog.Name)}[/], version {catalog.Version} (versions {string.Join(", ", catalog.Versions)})");
        console.Out.MarkupLine($"  from {Markup.Escape(catalog.SourceJob ?? "a result document")}; backbone {Markup.Escape(catalog.Backbone)}, mode {Markup.Escape(catalog.Mode)}");
        console.Out.MarkupLine(string.Create(invariant, $"  rule: nearest by Ward increase, margin {catalog.Margin}, novel beyond {catalog.AcceptanceFactor} x the cluster's spread; D = {catalog.EmbeddingDimension}; detection threshold {(catalog.DetectionThreshold is { } t ? t.ToString("G6", invariant) : "none")}"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("cluster");
        table.AddColumn(new TableColumn("size").RightAligned());
        table.AddColumn(new TableColumn("spread").RightAligned());
        table.AddColumn(new TableColumn("acceptance radius").RightAligned());
        foreach (var type in catalog.Clusters)
        {
            table.AddRow(Markup.Escape(type.Name), type.Size.ToString(invariant), type.Spread.ToString("F4", invariant), type.AcceptanceRadius.ToString("F4", invariant));
        }
        console.Out.Write(table);
    }

    /// <summary>A local catalog as the server would show it, with where it came from (a result folder, and its normal bank).</summary>
    private static LineView Shown(LineCatalog catalog, IReadOnlyList<int> versions) => LineView.Of(catalog, versions) with
    {
        SourceJob = catalog.Source.ReferenceBank is { } bank ? $"{catalog.Source.OptionsReference} (normal bank {bank})" : catalog.Source.OptionsReference,
    };
}
