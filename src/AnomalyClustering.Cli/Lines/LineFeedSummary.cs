using AnomalyClustering.Grains.Lines;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// What <c>line feed</c> did: one progress line per decided or left-out file as it happens, and at the end the counts per
/// defect type, novel images, errors by reason, images decided before, every file left out with its reason, and for a folder
/// of class folders the accuracy and novelty figures against those labels (<see cref="LabelledFeedFigures"/>).
/// </summary>
internal sealed class LineFeedSummary(CliConsole console)
{
    private readonly SortedDictionary<string, int> byDecision = new(StringComparer.Ordinal);
    private readonly List<(string Name, LineImageError Error)> errors = [];
    private readonly List<LeftOutFile> leftOut = [];
    private readonly LabelledFeedFigures labelled = new();
    private int repeated;

    /// <summary>Images with a decision (errors included).</summary>
    public int Decided { get; private set; }

    /// <summary>Images that had been decided before this run (none logged twice).</summary>
    public int Repeated => repeated;

    /// <summary>Images whose decision is an error.</summary>
    public int Errors => errors.Count;

    /// <summary>Records and prints the decision of <paramref name="file"/>.</summary>
    public void Add(FeedFile file, LineImageResult result)
    {
        Decided++;
        if (result.Repeated)
        {
            repeated++;
        }
        var again = result.Repeated ? " (decided before)" : "";
        if (result.Error is { } error)
        {
            errors.Add((file.Name, error));
            console.Out.MarkupLine($"  {Markup.Escape(file.Name)}: [red]error[/] {Markup.Escape(error.Reason)}: {Markup.Escape(error.Message)}{again}");
            return;
        }
        var decision = result.Decision!;
        byDecision[decision.Decision] = byDecision.GetValueOrDefault(decision.Decision) + 1;
        labelled.Add(file.Name, decision);
        var novelty = decision.NoveltyScore is { } score ? $", novelty {score:F2}" : "";
        console.Out.MarkupLine($"  {Markup.Escape(file.Name)}: [bold]{Markup.Escape(decision.Decision)}[/] ({Markup.Escape(decision.Outcome)}, nearest {Markup.Escape(decision.Nearest)}{novelty}){again}");
    }

    /// <summary>Records and prints a file left out.</summary>
    public void Add(LeftOutFile file)
    {
        leftOut.Add(file);
        console.Out.MarkupLine($"  {Markup.Escape(file.Name)}: [yellow]left out[/] ({Markup.Escape(file.Reason)}: {Markup.Escape(file.Message)})");
    }

    /// <summary>Prints the summary; <paramref name="pending"/> images were sent but not decided when the feed stopped.</summary>
    public void Print(string line, int catalogVersion, int pending)
    {
        console.Out.MarkupLine($"line [bold]{Markup.Escape(line)}[/] (catalog version {catalogVersion}): {Decided} images decided, {repeated} of them before this run; {leftOut.Count} files left out"
            + (pending > 0 ? $"; [yellow]{pending} sent but not decided yet[/] (their decisions are logged when made)" : ""));
        foreach (var (decision, count) in byDecision.Where(pair => pair.Key != LineDecision.Novel))
        {
            console.Out.MarkupLine($"  {Markup.Escape(decision)}: {count}");
        }
        console.Out.MarkupLine($"  novel: {byDecision.GetValueOrDefault(LineDecision.Novel)}");
        console.Out.MarkupLine($"  errors: {errors.Count}");
        foreach (var (name, error) in errors)
        {
            console.Out.MarkupLine($"    {Markup.Escape(name)} ({Markup.Escape(error.Reason)})");
        }
        foreach (var file in leftOut)
        {
            console.Out.MarkupLine($"  left out {Markup.Escape(file.Name)} ({Markup.Escape(file.Reason)})");
        }
        foreach (var text in labelled.Describe())
        {
            console.Out.MarkupLine(Markup.Escape(text));
        }
    }
}
