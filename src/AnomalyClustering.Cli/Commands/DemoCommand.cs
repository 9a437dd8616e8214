using System.CommandLine;
using AnomalyClustering.Cli.Demo;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary><c>demo</c>: generates a seeded synthetic product line in MVTec layout and clusters it with the built-in backbone.</summary>
internal static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var outOption = new Option<string>("--out", "-o") { Description = "Folder for the generated images and the results.", DefaultValueFactory = _ => "demo-out" };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the generator and of the clustering.", DefaultValueFactory = _ => 7 };
        var perClassOption = new Option<int>("--images-per-class") { Description = "Test images per class (good and each defect type).", DefaultValueFactory = _ => 20 };
        var command = new Command("demo", "Generate a synthetic product line (brushed metal with scratches, stains, cracks, holes, contamination) and cluster it.")
        {
            outOption, seedOption, perClassOption,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var options = new SyntheticProductLineOptions { Seed = parseResult.GetValue(seedOption), ImagesPerClass = parseResult.GetValue(perClassOption) };
            var summary = SyntheticProductLine.Write(parseResult.GetValue(outOption)!, options);
            console.Out.WriteLine($"generated {summary.Root}");
            return Task.FromResult(0);
        });
        return command;
    }
}
