using System.CommandLine;
using System.Globalization;
using AnomalyClustering.Abstractions.Lines;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line recluster NAME [--clusters K|auto]</c>: clusters the line's pool of novel images with Ward's method into proposals
/// for new defect types (<see cref="AnomalyClustering.Core.Lines.NovelPoolClustering"/>) and prints them; <c>line name</c>
/// makes one a defect type of the next catalog version.
/// </summary>
internal static class LineReclusterCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line." };
        var clusters = new Option<string>("--clusters") { Description = "Number of proposals K, or auto (chosen by the silhouette).", DefaultValueFactory = _ => "auto", HelpName = "k|auto" };
        var connection = new LinePoolConnection(console.Error);
        var command = new Command("recluster", "Cluster the line's novel pool (Ward) into proposals for new defect types.") { name, clusters };
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var line = parseResult.GetValue(name)!;
            var k = ParseClusters(parseResult.GetValue(clusters)!);
            var set = await connection.RunAsync(parseResult, line,
                pool => pool.ReclusterAsync(k, DateTimeOffset.UtcNow, cancellationToken),
                // A server answers the request at once and reclusters after it: the command waits, saying what it waits for.
                client => client.ReclusterLineAsync(line, k, state => console.Out.MarkupLine($"line [bold]{Markup.Escape(line)}[/]: {Markup.Escape(state)}..."), cancellationToken),
                cancellationToken).ConfigureAwait(false);
            Print(console, line, set);
            return CliExitCodes.Success;
        });
        return command;
    }

    /// <summary>K from <c>--clusters</c>: a whole number of 1 or more, or null for <c>auto</c>.</summary>
    /// <exception cref="CliInputException">Neither.</exception>
    public static int? ParseClusters(string value) =>
        string.Equals(value, "auto", StringComparison.OrdinalIgnoreCase) ? null
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 1 ? k
        : throw new CliInputException($"--clusters is '{value}'; give a whole number K of 1 or more, or auto.");

    private static void Print(CliConsole console, string line, NovelProposalSet set)
    {
        var invariant = CultureInfo.InvariantCulture;
        console.Out.MarkupLine(string.Create(invariant,
            $"line [bold]{Markup.Escape(line)}[/]: recluster {set.Run} of {set.PoolSize} novel images: {set.Proposals.Count} proposals ({(set.Automatic ? "number chosen automatically" : "number given")})"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("proposal");
        table.AddColumn(new TableColumn("size").RightAligned());
        table.AddColumn(new TableColumn("spread").RightAligned());
        table.AddColumn("first members");
        foreach (var proposal in set.Proposals)
        {
            var first = string.Join(", ", proposal.Members.Take(3).Select(id => id.Length > 12 ? id[..12] : id)) + (proposal.Members.Count > 3 ? ", ..." : "");
            table.AddRow(proposal.Id, proposal.Size.ToString(invariant), proposal.Spread.ToString("F4", invariant), Markup.Escape(first));
        }
        console.Out.Write(table);
        console.Out.MarkupLine($"  name one with [bold]line name {Markup.Escape(line)} PROPOSAL NAME[/]; it becomes a defect type of the next catalog version");
    }
}
