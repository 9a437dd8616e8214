using System.CommandLine;
using System.CommandLine.Invocation;
using AnomalyClustering.Cli.Commands;

namespace AnomalyClustering.Cli;

/// <summary>
/// The anomaly-cluster command tree and its one place of error handling: parse errors and errors the
/// user can fix become one line on standard error and a non-zero exit code, never a stack trace.
/// </summary>
internal static class CliApplication
{
    /// <summary>Environment variable that makes internal errors print their stack trace.</summary>
    public const string TraceVariable = "ANOMALY_CLUSTER_TRACE";

    /// <summary>The root command with every subcommand, writing to <paramref name="console"/>.</summary>
    public static RootCommand CreateRootCommand(CliConsole console) =>
        new("Groups images of defective products into clusters of defect types (Anomaly Clustering, Sohn et al. 2023).")
        {
            DemoCommand.Create(console),
        };

    /// <summary>Parses <paramref name="args"/>, runs the chosen command, and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var parseResult = CreateRootCommand(console).Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            var command = string.Join(' ', parseResult.CommandResult.Command.Parents.OfType<Command>().Reverse().Select(c => c.Name).Append(parseResult.CommandResult.Command.Name));
            console.Error.WriteLine($"error: {string.Join("; ", parseResult.Errors.Select(e => e.Message.TrimEnd('.')))} (see '{command} --help')");
            return CliExitCodes.UsageError;
        }
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.OutWriter,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
            };
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            console.Error.WriteLine("cancelled.");
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
}
