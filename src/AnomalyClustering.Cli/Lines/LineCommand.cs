using System.CommandLine;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line</c>: production lines, whose catalog of named defect types assigns every new image to a known type or flags it
/// as new: a line's versioned catalogs in the local store (<c>line create</c>, <c>line show</c>), the offline measurement
/// of the assignment rule (<c>line evaluate</c>), sending a folder's images to a line (<c>line feed</c>), a page of its recent decisions (<c>line report</c>), and turning its novel images into new defect types (<c>line recluster</c>, <c>line name</c>).
/// </summary>
internal static class LineCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliConsole console) =>
        new("line", "Production lines: assign new images to named defect types or flag them as new.")
        {
            LineCreateCommand.Create(console),
            LineShowCommand.Create(console),
            LineEvaluateCommand.Create(console),
            LineFeedCommand.Create(console),
            LineReportCommand.Create(console),
            LineReclusterCommand.Create(console),
            LineNameCommand.Create(console),
        };
}
