using System.CommandLine;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>cluster &lt;images-dir&gt;</c>: detects the folder layout, embeds and clusters the images, writes
/// clusters.csv and result.json, and prints the clusters (and NMI / ARI / F1 when labels exist).
/// </summary>
internal static class ClusterCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var imagesDir = new Argument<string>("images-dir") { Description = "Folder of images: MVTec (test/<class>/, train/good/), one folder per class, or flat." };
        var shared = new ClusteringOptionSet(defaultOutput: "out");
        var image = new ImageJobOptionSet();
        var store = new Option<string?>("--store")
        {
            Description = $"Folder of the embedded silo's blob store; its feature cache makes a second run over the same images skip the backbone. Default: {EmbeddedCluster.DefaultStoreFolder}.",
            HelpName = "dir",
        };
        var names = new Option<string?>("--names")
        {
            Description = "Cluster names to store with the result and show in the report: a JSON object of cluster index to name (the report's 'Download names.json').",
            HelpName = "names.json",
        };
        var command = new Command("cluster", "Cluster a folder of images into defect types; writes clusters.csv, result.json and report.html.") { imagesDir, store, names };
        var remote = new RemoteOptionSet();
        image.AddTo(command);
        shared.AddTo(command);
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var clusterNames = parseResult.GetValue(names) is { } namesPath ? HtmlReportFiles.ReadNames(namesPath) : ClusterNames.Empty;
            if (remote.IsRequested(parseResult))
            {
                if (parseResult.GetValue(store) is not null)
                {
                    throw new CliInputException("--store names the local store of embedded runs; with --server the server's store is used.");
                }
                return RemoteClusterRun.RunAsync(console, parseResult, parseResult.GetValue(imagesDir)!, shared, image, remote, clusterNames, cancellationToken);
            }
            var found = ImageFolderDiscovery.Discover(parseResult.GetValue(imagesDir)!, parseResult.GetValue(image.Normal));
            var options = shared.Apply(parseResult, image.Apply(parseResult, new ClusteringJobOptions()));
            var description = image.Describe(parseResult);
            return Task.FromResult(Run(
                console, found, options, description, image.Runtime(parseResult), parseResult.GetValue(shared.Out)!, cancellationToken, parseResult.GetValue(store), clusterNames));
        });
        return command;
    }

    /// <summary>Clusters a discovered folder, writes clusters.csv, result.json and report.html, and prints the clusters; shared with <c>demo</c>.</summary>
    public static int Run(
        CliConsole console, DiscoveredImageFolder found, ClusteringJobOptions options, BackboneDescription description, BackboneRuntimeOptions runtime,
        string outputFolder, CancellationToken cancellationToken, string? storeFolder = null, ClusterNames? names = null)
    {
        // Everything that can be refused is checked before any output, so a mistake costs one line.
        names ??= ClusterNames.Empty;
        Check(found, options, names);
        ResultFiles.CheckOutputFolder(outputFolder);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        DescribeInput(console.Out, found, options, description);
        // A mask problem is one of the result's warnings, printed with the others after the run.
        var (masks, maskProblem) = GroundTruthMasks.Find(found);
        var result = RunEmbedded(console, found, masks, options, description, runtime, storeFolder, cancellationToken);
        WriteOutputs(console, found, options, result, Source(found, description), names, outputFolder, cancellationToken, maskProblem);
        // The stage times above leave out starting the silo and writing the report; this is what the run cost.
        PrintTotalTime(console, result.Images.Count, clock.Elapsed);
        return CliExitCodes.Success;
    }

    /// <summary>The run's last line: what it cost from the first image read to the last file written.</summary>
    public static void PrintTotalTime(CliConsole console, int images, TimeSpan elapsed) =>
        console.Out.MarkupLine(FormattableString.Invariant($"clustered {images} images in {elapsed.TotalSeconds:F1} s in total"));

    /// <summary>
    /// Throws unless the job can run: options in range, the dataset fits them (the pipeline's own checks: normal images for
    /// semi-supervised mode, K at most the number of images), no more images than the clustering takes, names for clusters K can have.
    /// </summary>
    public static void Check(DiscoveredImageFolder found, ClusteringJobOptions options, ClusterNames? names = null)
    {
        options.Validate();
        JobPlan.CheckDataset(options, found.Dataset);
        int? expectedClusters = options.ClusterCount ?? (options.DistanceThreshold is null && found.Dataset.HasLabels ? found.Dataset.ClassNames.Count : null);
        if (names is not null && expectedClusters is { } k)
        {
            names.CheckAgainst(k);
        }
    }

    /// <summary>
    /// What every image job leaves behind, wherever it ran (embedded or on a server): the names attached, clusters.csv,
    /// result.json and report.html in <paramref name="outputFolder"/>, the clusters printed, and the result's warnings, completed
    /// by <see cref="ConsoleWarnings"/> (<paramref name="requested"/>: the options as given, before K was resolved;
    /// <paramref name="maskProblem"/>: why the ground-truth masks could not all be used for pixel metrics, or null).
    /// </summary>
    public static void WriteOutputs(
        CliConsole console, DiscoveredImageFolder found, ClusteringJobOptions requested, ClusteringResult result, ResultSource source, ClusterNames names,
        string outputFolder, CancellationToken cancellationToken, string? maskProblem = null)
    {
        names.CheckAgainst(result.ClusterCount);
        result = result with { Names = names, Warnings = ConsoleWarnings.Of(found, result, requested, maskProblem) };
        var (clustersCsv, resultJson) = ResultFiles.Write(outputFolder, result, source);
        var report = HtmlReportFiles.Write(outputFolder, result, source, found.Dataset, cancellationToken);
        ConsoleWarnings.Print(console.Out, result.Warnings);
        ResultReport.Print(console.Out, result, clustersCsv, resultJson, report);
    }

    /// <summary>
    /// One job on a running embedded silo with the progress display, as <see cref="Run"/> does it; <c>eval</c> runs its jobs
    /// through here, on one silo whose feature cache the jobs of a category share. <paramref name="masks"/>: the folder's
    /// ground-truth masks (<see cref="GroundTruthMasks.Find"/>; the caller warns of their problem with the result's warnings).
    /// </summary>
    public static ClusteringResult RunJob(
        CliConsole console, EmbeddedCluster cluster, DiscoveredImageFolder found, GroundTruthMasks? masks, ClusteringJobOptions options,
        BackboneDescription description, CancellationToken cancellationToken)
    {
        Check(found, options);
        return PipelineProgressDisplay.Run(
            console.Out,
            progress => cluster.RunAsync(found, options, description, progress, cancellationToken, masks).GetAwaiter().GetResult());
    }

    /// <summary>Where a result came from, as result.json records it.</summary>
    public static ResultSource Source(DiscoveredImageFolder found, BackboneDescription description) =>
        Source(found, description.Name, description.Preprocessing);

    /// <summary>Where a result came from, for a backbone known by name and preprocessing (a server's).</summary>
    public static ResultSource Source(DiscoveredImageFolder found, string? backbone, PreprocessingOptions? preprocessing) =>
        new("images", found.Root, found.Layout.JsonName(), found.NormalFolder, backbone, found.ExcludedImages, preprocessing);

    /// <summary>
    /// The job through an in-process silo (embedded mode): the same grains a cluster runs, one process. A job that a killed run
    /// of the same command left in the store is resumed, and the run says so before its progress.
    /// </summary>
    private static ClusteringResult RunEmbedded(
        CliConsole cliConsole, DiscoveredImageFolder found, GroundTruthMasks? masks, ClusteringJobOptions options, BackboneDescription description,
        BackboneRuntimeOptions runtime, string? storeFolder, CancellationToken cancellationToken)
    {
        var console = cliConsole.Out;
        return RunAsync().GetAwaiter().GetResult();

        async Task<ClusteringResult> RunAsync()
        {
            var folder = storeFolder ?? EmbeddedCluster.DefaultStoreFolder;
            await using var cluster = await EmbeddedCluster.StartAsync(folder, runtime, options.BatchSize, options.ClusteringMemoryBudgetBytes, cliConsole.Error, cancellationToken)
                .ConfigureAwait(false);
            // Opening the backbone before any work turns a missing model or GPU into the CLI's usual typed error.
            cluster.Backbones.Get(description.ToJson());
            if (options.Mode != ClusteringMode.Average && cluster.PatchScoring.UsesOnnxKernel)
            {
                console.MarkupLine($"  patch scores: the nearest-patch search runs as an ONNX graph on the {runtime.ExecutionProvider.ToString().ToLowerInvariant()} execution provider");
            }
            var job = await cluster.PrepareAsync(found.Dataset, options, description).ConfigureAwait(false);
            if (job.Resumed is { } kept)
            {
                console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                    $"  resuming the job that an interrupted run of this command left in {Path.GetFullPath(folder)}: {kept.WeightedImages} of {kept.TotalImages} images were done")));
            }
            var (otherJobs, otherBytes) = await cluster.KeptJobsAsync(job.Id, cancellationToken).ConfigureAwait(false);
            if (otherJobs > 0)
            {
                console.MarkupLine("  [yellow]" + Markup.Escape(FormattableString.Invariant(
                    $"note: {Path.GetFullPath(folder)} also holds {otherJobs} job(s) that interrupted runs left with other images or options ({otherBytes / 1e6:F1} MB of uploads and outcomes): the command that started each resumes it; 'anomaly-cluster store list --store {Path.GetFullPath(folder)}' shows them, 'store drop' deletes them")) + "[/]");
            }
            try
            {
                return PipelineProgressDisplay.Run(
                    console, progress => cluster.RunAsync(job, found, options, description, progress, cancellationToken, masks).GetAwaiter().GetResult());
            }
            catch (EmbeddedJobKeptException stopped)
            {
                // Said before the silo shuts down: that may outlast the grace period a stopping process gets.
                cliConsole.Error.WriteLine(stopped.Message);
                throw new OperationCanceledException(stopped.Message, stopped);
            }
        }
    }

    private static void DescribeInput(IAnsiConsole console, DiscoveredImageFolder found, ClusteringJobOptions options, BackboneDescription description)
    {
        var limit = options.NormalImageLimit;
        var use = options.Mode != ClusteringMode.SemiSupervised ? "not used in this mode"
            : limit == 0 || found.Dataset.NormalImages.Count <= limit ? "normal set"
            : $"normal set: a random {limit} of them, --normal-limit";
        if (options.Mode == ClusteringMode.SemiSupervised && options.CoresetFraction > 0)
        {
            use += $"; bank: a greedy coreset of {options.CoresetFraction.ToString("G", System.Globalization.CultureInfo.InvariantCulture)} of their patches, --coreset";
        }
        JobInputDescription.WriteDataset(console, found, use);
        var cut = JobInputDescription.Cut(options, found);
        console.MarkupLine(
            $"  backbone {Markup.Escape(description.Name)}, mode {ClusteringOptionNames.Of(options.Mode)}, tau {options.Tau}, {ClusteringOptionNames.Of(options.Linkage)} linkage, {cut}");
    }
}
