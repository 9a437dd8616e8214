using System.CommandLine;
using System.CommandLine.Invocation;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Lines;
using AnomalyClustering.Cli.Remote;

namespace AnomalyClustering.Cli;

/// <summary>
/// The anomaly-cluster command tree and its one place of error handling: parse errors and errors the
/// user can fix become one line on standard error and a non-zero exit code, never a stack trace.
/// </summary>
internal static class CliApplication
{
    /// <summary>Environment variable that makes internal errors print their stack trace.</summary>
    public const string TraceVariable = "ANOMALY_CLUSTER_TRACE";

    /// <summary>The tool's name, as the user types it.</summary>
    public const string ToolName = "anomaly-cluster";

    /// <summary>The root command with every subcommand, writing to <paramref name="console"/>.</summary>
    public static RootCommand CreateRootCommand(CliConsole console)
    {
        var root = new RootCommand("Groups images of defective products into clusters of defect types (Anomaly Clustering, Sohn et al. 2023).")
        {
            DemoCommand.Create(console),
            ClusterCommand.Create(console),
            ClusterVectorsCommand.Create(console),
            EvalCommand.Create(console),
            ReportCommand.Create(console),
            ModelCommand.Create(console),
            JobsCommand.Create(console),
            StoreCommand.Create(console),
            LineCommand.Create(console),
        };
        // Also when hosted by another executable (the tests run the commands in-process).
        root.HelpName = ToolName;
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the chosen command, and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var parseResult = CreateRootCommand(console).Parse(args);
        if (parseResult.Action is ParseErrorAction && AsksForACommandOnly(parseResult))
        {
            // 'anomaly-cluster' or 'anomaly-cluster jobs' alone: the list of what can follow, not an error about it; still a
            // usage error for a script that forgot the command.
            await CreateRootCommand(console).Parse([.. args, "--help"])
                .InvokeAsync(new InvocationConfiguration { Output = console.OutWriter, Error = console.Error }, cancellationToken).ConfigureAwait(false);
            return CliExitCodes.UsageError;
        }
        if (parseResult.Action is ParseErrorAction)
        {
            console.Error.WriteLine($"error: {DescribeParseErrors(parseResult)} (see '{CommandPath(parseResult.CommandResult.Command)} --help')");
            return CliExitCodes.UsageError;
        }
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.OutWriter,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                // Ctrl+C or SIGTERM cancels the command's token; the command then cancels its job (a server's cancel call
                // has 10 s) and says so. The default 2 s ended the process before that, silently, with the cancel call cut off.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(20),
            };
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException e)
        {
            // A kept job says where it waits (cluster said so already, before its silo stopped); anything else stopped is gone.
            console.Error.WriteLine(e switch
            {
                Embedded.EmbeddedJobKeptException => e.Message,
                { InnerException: Embedded.EmbeddedJobKeptException } => "cancelled: the job is kept.",
                _ => "cancelled.",
            });
            return CliExitCodes.Cancelled;
        }
        catch (Exception exception) when (UserErrors.Describe(exception) is { } message)
        {
            console.Error.WriteLine("error: " + message);
            return CliExitCodes.InputError;
        }
        catch (Exception exception)
        {
            console.Error.WriteLine($"internal error: {exception.GetType().Name}: {exception.Message} (set {TraceVariable}=1 for the stack trace; please report it)");
            if (Environment.GetEnvironmentVariable(TraceVariable) == "1")
            {
                console.Error.WriteLine(exception);
            }
            return CliExitCodes.InternalError;
        }
    }

    /// <summary>True when the command line names a command that only groups subcommands, and nothing else is wrong.</summary>
    private static bool AsksForACommandOnly(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        return command.Subcommands.Count > 0 && command.Action is null && parseResult.UnmatchedTokens.Count == 0
            && !parseResult.CommandResult.Children.Any() && parseResult.Errors.Count == 1;
    }

    /// <summary>
    /// The parse errors as one line: the first two, multi-line messages folded ("Must be one of: 'a', 'b'"), .NET type names
    /// (<c>System.Nullable`1[System.Int32]</c>) said as what a person types.
    /// </summary>
    private static string DescribeParseErrors(ParseResult parseResult)
    {
        var messages = parseResult.Errors
            .Select(error => ParseErrorText.Plain(error.Message).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(lines => lines.Length == 1 ? lines[0] : lines[0] + " " + string.Join(", ", lines.Skip(1)))
            .Select(message => message.TrimEnd('.'))
            .Distinct()
            .ToList();
        return string.Join("; ", messages.Take(2)) + (messages.Count > 2 ? $"; and {messages.Count - 2} more" : string.Empty);
    }

    private static string CommandPath(Command command) =>
        string.Join(' ', command.Parents.OfType<Command>().Reverse().Append(command).Select(c => c is RootCommand ? ToolName : c.Name));
}
