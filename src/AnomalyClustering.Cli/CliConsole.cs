using Spectre.Console;

namespace AnomalyClustering.Cli;

/// <summary>Where the CLI writes: rich output (tables, progress) to standard output, one-line errors to standard error.</summary>
/// <param name="Out">Standard output as a Spectre console.</param>
/// <param name="OutWriter">Standard output as plain text (help text goes here).</param>
/// <param name="Error">Standard error.</param>
internal sealed record CliConsole(IAnsiConsole Out, TextWriter OutWriter, TextWriter Error)
{
    /// <summary>The width of a redirected output: wider than any line the CLI writes, so that none is wrapped.</summary>
    public const int RedirectedWidth = 10_000;

    /// <summary>The process's own console.</summary>
    public static CliConsole ForProcess()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // A file or pipe has no width, so no line is wrapped: a wrapped path or suggested command line would be
            // copied back broken (Spectre's 80 columns, and 120 before, split both). Tables take only their content's width.
            console.Profile.Width = RedirectedWidth;
            // Nor a live display: progress comes as whole plain lines (PipelineProgressDisplay), each once.
            console.Profile.Capabilities.Interactive = false;
        }
        return new CliConsole(console, Console.Out, Console.Error);
    }

    /// <summary>A console that writes plain text (no colours, no live progress) to the given writers, for tests and logs.</summary>
    public static CliConsole ForWriters(TextWriter output, TextWriter error)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 120;
        return new CliConsole(console, output, error);
    }
}
