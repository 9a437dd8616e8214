using System.CommandLine;
using System.Globalization;
using AnomalyClustering.Cli.Embedded;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary><c>line show NAME</c>: a line's versions, and its newest (or a given) catalog: source, rule and clusters with their radii.</summary>
internal static class LineShowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line's name." };
        var version = new Option<int?>("--version") { Description = "The catalog version to show. Default: the newest.", HelpName = "n" };
        var store = LineStoreOption.Create();
        var command = new Command("show", "Show a line's catalog: versions, source, rule, and per cluster its size, spread and acceptance radius.") { name, version, store };
        command.SetAction(parseResult => Run(console, parseResult.GetValue(name)!, parseResult.GetValue(version),
            new LocalLineStore(parseResult.GetValue(store) ?? EmbeddedCluster.DefaultStoreFolder)));
        return command;
    }

    private static int Run(CliConsole console, string name, int? version, LocalLineStore store)
    {
        var catalog = store.Read(name, version);
        var invariant = CultureInfo.InvariantCulture;
        console.Out.MarkupLine($"line [bold]{Markup.Escape(catalog.Line)}[/], version {catalog.Version} (versions {string.Join(", ", store.Versions(name))})");
        console.Out.MarkupLine($"  from {Markup.Escape(catalog.Source.OptionsReference)}; backbone {Markup.Escape(catalog.Source.Backbone)}, mode {Markup.Escape(catalog.Source.Mode)}, normal bank {Markup.Escape(catalog.Source.ReferenceBank ?? "none")}");
        console.Out.MarkupLine(string.Create(invariant, $"  rule: nearest by Ward increase, margin {catalog.Rule.Margin}, novel beyond {catalog.Rule.AcceptanceFactor} x the cluster's spread; D = {catalog.EmbeddingDimension}; detection threshold {(catalog.DetectionThreshold is { } t ? t.ToString("G6", invariant) : "none")}"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("cluster");
        table.AddColumn(new TableColumn("size").RightAligned());
        table.AddColumn(new TableColumn("spread").RightAligned());
        table.AddColumn(new TableColumn("acceptance radius").RightAligned());
        for (var c = 0; c < catalog.Clusters.Count; c++)
        {
            var cluster = catalog.Clusters[c];
            table.AddRow(Markup.Escape(cluster.Name), cluster.Size.ToString(invariant), cluster.Spread.ToString("F4", invariant), catalog.AcceptanceRadius(c).ToString("F4", invariant));
        }
        console.Out.Write(table);
        return CliExitCodes.Success;
    }
}
