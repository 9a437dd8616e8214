using System.CommandLine;
using System.Diagnostics;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>demo</c>: generates a seeded synthetic product line in MVTec layout (brushed metal with five
/// defect types and good plates), clusters it with the built-in backbone, and prints the clusters
/// and how well they match the defect types.
/// </summary>
internal static class DemoCommand
{
    /// <summary>
    /// The demo's job settings. Semi-supervised weights from train/good; tau 0.5 because the built-in
    /// backbone's patch distances span a few units (tau 1, the paper's value for WideResNet features,
    /// flattens its weights); P = T = 256 keeps the run well under a minute on two cores.
    /// </summary>
    public static ClusteringJobOptions JobOptions(int seed) => new()
    {
        Mode = ClusteringMode.SemiSupervised,
        Tau = 0.5,
        PretrainDimension = 256,
        TargetDimension = 256,
        Seed = seed,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var outOption = new Option<string>("--out", "-o") { Description = "Folder for the generated images and the results.", DefaultValueFactory = _ => "demo-out", HelpName = "dir" };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the image generator.", DefaultValueFactory = _ => 7 };
        var perClassOption = new Option<int>("--images-per-class") { Description = "Test images per class (good and each defect type).", DefaultValueFactory = _ => 20, HelpName = "n" };
        var threadsOption = new Option<int>("--threads") { Description = "Threads for the backbone and the scoring (0 = all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("demo", "Generate a synthetic product line (brushed metal with scratches, stains, cracks, holes, contamination) and cluster it.")
        {
            outOption, seedOption, perClassOption, threadsOption,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var threads = parseResult.GetValue(threadsOption);
            if (threads < 0)
            {
                throw new CliInputException($"--threads is {threads}; use 0 for all cores or a positive number.");
            }
            var seed = parseResult.GetValue(seedOption);
            var generator = new SyntheticProductLineOptions { Seed = seed, ImagesPerClass = parseResult.GetValue(perClassOption) };
            var options = JobOptions(seed) with { MaxDegreeOfParallelism = threads == 0 ? -1 : threads };
            var runtime = new BackboneRuntimeOptions { IntraOpThreads = threads };
            return Task.FromResult(Run(console, parseResult.GetValue(outOption)!, generator, options, runtime, cancellationToken));
        });
        return command;
    }

    private static int Run(
        CliConsole console, string outputFolder, SyntheticProductLineOptions generator, ClusteringJobOptions options, BackboneRuntimeOptions runtime,
        CancellationToken cancellationToken)
    {
        if (generator.ImagesPerClass < 2)
        {
            throw new CliInputException($"--images-per-class is {generator.ImagesPerClass}; the demo needs at least 2 images per class.");
        }
        // Before any image is drawn: a file given as --out was "Could not find a part of the path" after the header.
        ResultFiles.CheckOutputFolder(outputFolder);
        var clock = Stopwatch.StartNew();
        var screen = console.Out;
        screen.MarkupLine($"[bold]Synthetic product line[/] '{generator.ProductName}' (seed {generator.Seed}): brushed-metal plates, {SyntheticSurfacePainter.ImageSize} x {SyntheticSurfacePainter.ImageSize} px,");
        screen.MarkupLine($"  defect types: {string.Join(", ", generator.DefectTypes.Select(t => t.FolderName()))}, plus good plates");

        var total = SyntheticProductLine.ImageCount(generator);
        var summary = screen.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("generating images", maxValue: total);
                return SyntheticProductLine.Write(outputFolder, generator, written => task.Value = written);
            });
        screen.MarkupLine($"  wrote {total} images in MVTec layout to [blue]{Markup.Escape(summary.Root)}[/]:");
        screen.MarkupLine($"    test/       {string.Join(", ", summary.TestClasses.Select(c => $"{c.ClassName} {c.Count}"))}");
        screen.MarkupLine($"    train/good/ {summary.NormalTrainingImages} defect-free plates (the normal set)");
        screen.WriteLine();

        var found = ImageFolderDiscovery.Discover(summary.Root);
        var exitCode = ClusterCommand.Run(console, found, options, BuiltInBackbone.WholeImageDescription, runtime, Path.Combine(outputFolder, "results"), cancellationToken);
        screen.MarkupLine($"demo finished in {clock.Elapsed.TotalSeconds:F0} s. The same clustering by hand:");
        screen.MarkupLine(FormattableString.Invariant(
            $"  anomaly-cluster cluster {Markup.Escape(summary.Root)} --mode semi-supervised --tau {options.Tau} --pretrain-dim {options.PretrainDimension} --target-dim {options.TargetDimension}"));
        screen.MarkupLine("Your own images: [bold]anomaly-cluster cluster <images-dir>[/] (MVTec, class-folder or flat layout; see --help)");
        return exitCode;
    }
}
