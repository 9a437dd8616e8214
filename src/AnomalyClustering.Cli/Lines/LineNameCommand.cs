using System.CommandLine;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line name NAME PROPOSAL TYPE</c>: makes a proposal of the newest <c>line recluster</c> a defect type named TYPE of the
/// line's next catalog version (the newest plus that cluster); its members leave the novel pool, and decisions made before
/// keep the version they were made with.
/// </summary>
internal static class LineNameCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line." };
        var proposal = new Argument<string>("proposal") { Description = "The proposal's id, as line recluster printed it (p1, p2, ...)." };
        var type = new Argument<string>("type") { Description = "The defect type's name (e.g. crack)." };
        var connection = new LinePoolConnection(console.Error);
        var command = new Command("name", "Name a proposal of the novel pool: it becomes a defect type of the line's next catalog version.") { name, proposal, type };
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var line = parseResult.GetValue(name)!;
            var id = parseResult.GetValue(proposal)!;
            var typeName = parseResult.GetValue(type)!;
            var version = await connection.RunAsync(parseResult, line,
                async pool => (await pool.NameAsync(id, typeName, cancellationToken).ConfigureAwait(false)).Version,
                client => client.NameLineProposalAsync(line, id, typeName, cancellationToken), cancellationToken).ConfigureAwait(false);
            console.Out.MarkupLine($"line [bold]{Markup.Escape(line)}[/] version {version}: proposal {Markup.Escape(id)} is now the defect type [bold]{Markup.Escape(typeName)}[/]");
            return CliExitCodes.Success;
        });
        return command;
    }
}
