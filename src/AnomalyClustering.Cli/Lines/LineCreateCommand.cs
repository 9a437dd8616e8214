using System.CommandLine;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line create NAME --from-result DIR</c>: makes the next catalog version of a line from a completed job's result (its
/// clusters as cut, named as the job's names say, "cluster k" otherwise) and stores it in the local line store, with how
/// <c>line feed</c> processes new images as the job did (<see cref="LocalLineScoring"/>: the job's normal bank or reference
/// images are embedded again and stored with the catalog). <c>line create NAME --from-job ID --server URL</c> asks a
/// server to do the same from one of its jobs (<c>POST /lines</c>).
/// </summary>
internal static class LineCreateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line's name (one product on one production line)." };
        var fromResult = new Option<string?>("--from-result") { Description = "The result folder (or its result.json) of a completed job (embedded: the local line store).", HelpName = "dir" };
        var fromJob = new Option<string?>("--from-job") { Description = "With --server: the id of a completed job of the server.", HelpName = "id" };
        var margin = new Option<double>("--margin") { Description = "Least relative lead of the nearest cluster's Ward increase over the second's for a clear decision.", DefaultValueFactory = _ => AssignmentRuleSettings.Default.Margin };
        var factor = new Option<double>("--acceptance-factor") { Description = "Novel beyond this many times the nearest cluster's spread.", DefaultValueFactory = _ => AssignmentRuleSettings.Default.AcceptanceFactor };
        var reclusterEvery = new Option<int?>("--recluster-every") { Description = "Recluster the novel pool automatically each time this many images joined it (0: never). Default: as before, never for a new line.", HelpName = "m" };
        var poolCapacity = new Option<int?>("--pool-capacity") { Description = $"The most novel images the pool keeps; the oldest leave first. Default: as before, {NovelPoolSettings.DefaultCapacity} for a new line.", HelpName = "n" };
        var model = new Option<string?>("--model") { Description = "The job's ONNX backbone, when it was not the built-in one: line feed embeds new images with it.", HelpName = "model.onnx" };
        var featureOutputs = new Option<string[]>("--feature-output") { Description = "With --model: the feature maps the job took (repeat, finest first), when it named them.", HelpName = "name", AllowMultipleArgumentsPerToken = false };
        var backbone = new Option<string?>("--backbone") { Description = "The job's backbone description (JSON), when it used one.", HelpName = "backbone.json" };
        var store = LineStoreOption.Create();
        var remote = new RemoteOptionSet();
        var command = new Command("create", "Make the next catalog version of a line from a job's result (named clusters, centroids, sizes, spreads).")
        {
            name, fromResult, fromJob, margin, factor, reclusterEvery, poolCapacity, model, featureOutputs, backbone, store, remote.Server,
        };
        remote.Credentials.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var rule = new AssignmentRuleSettings(parseResult.GetValue(margin), parseResult.GetValue(factor));
            if (parseResult.GetValue(remote.Server) is { } server)
            {
                if (parseResult.GetValue(fromJob) is not { } jobId || parseResult.GetValue(fromResult) is not null)
                {
                    throw new CliInputException("with --server, name the server's completed job with --from-job ID (--from-result is a local result folder).");
                }
                if (parseResult.GetValue(store) is not null || parseResult.GetValue(model) is not null || parseResult.GetValue(backbone) is not null
                    || parseResult.GetValue(featureOutputs) is { Length: > 0 })
                {
                    throw new CliInputException("--store, --model, --backbone and --feature-output describe an embedded line; with --server the job's own backbone and the server's store are used.");
                }
                using var client = new JobApiClient(JobApiClient.ParseServer(server), await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
                return await RunRemoteAsync(console, client, parseResult.GetValue(name)!, jobId, rule, parseResult.GetValue(reclusterEvery), parseResult.GetValue(poolCapacity), cancellationToken).ConfigureAwait(false);
            }
            if (parseResult.GetValue(remote.Credentials.Token) is not null || parseResult.GetValue(remote.Credentials.Audience) is not null)
            {
                throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server.");
            }
            if (parseResult.GetValue(fromJob) is not null)
            {
                throw new CliInputException("--from-job names a job of a server; give --server URL, or --from-result DIR for a local result folder.");
            }
            if (parseResult.GetValue(fromResult) is not { } resultPath)
            {
                throw new CliInputException("name the job to make the line from: --from-result DIR (a local result folder), or --from-job ID with --server URL.");
            }
            var storeFolder = parseResult.GetValue(store) ?? EmbeddedCluster.DefaultStoreFolder;
            var given = parseResult.GetValue(model) is null && parseResult.GetValue(backbone) is null && parseResult.GetValue(featureOutputs) is not { Length: > 0 }
                ? null
                : BackboneSelection.Describe(parseResult.GetValue(model), parseResult.GetValue(backbone), parseResult.GetValue(featureOutputs) ?? []);
            return await RunAsync(console, parseResult.GetValue(name)!, resultPath, rule, new LocalLineStore(storeFolder), storeFolder, given,
                parseResult.GetValue(reclusterEvery), parseResult.GetValue(poolCapacity), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunRemoteAsync(
        CliConsole console, JobApiClient client, string name, string jobId, AssignmentRuleSettings rule, int? reclusterEvery, int? poolCapacity, CancellationToken cancellationToken)
    {
        LocalLineStore.CheckName(name);
        LineRuleOptions.Check(rule);
        // Checked before POST /lines, as the embedded path does: the server would refuse the pool settings only after it
        // had made the catalog version, so a refused command would leave a version behind.
        LineNovelPool.Check(new NovelPoolSettings(poolCapacity ?? NovelPoolSettings.DefaultCapacity, reclusterEvery ?? 0));
        var catalog = await client.CreateLineAsync(name, jobId, rule, cancellationToken).ConfigureAwait(false);
        if (reclusterEvery is not null || poolCapacity is not null)
        {
            var before = await client.GetLinePoolSettingsAsync(name, cancellationToken).ConfigureAwait(false);
            var pooled = await client.SetLinePoolSettingsAsync(name,
                before with { Capacity = poolCapacity ?? before.Capacity, ReclusterEvery = reclusterEvery ?? before.ReclusterEvery }, cancellationToken).ConfigureAwait(false);
            console.Out.MarkupLine($"  novel pool: at most {pooled.Capacity} images, {(pooled.ReclusterEvery == 0 ? "reclustered on request" : $"reclustered every {pooled.ReclusterEvery} novel images")}");
        }
        console.Out.MarkupLine($"line [bold]{Markup.Escape(catalog.Name)}[/] version {catalog.Version}: {catalog.Clusters.Count} defect types from job {Markup.Escape(jobId)} on the server");
        LineShowCommand.Write(console, catalog);
        return CliExitCodes.Success;
    }

    private static async Task<int> RunAsync(
        CliConsole console, string name, string resultPath, AssignmentRuleSettings settings, LocalLineStore store, string storeFolder, BackboneDescription? given,
        int? reclusterEvery, int? poolCapacity, CancellationToken cancellationToken)
    {
        LocalLineStore.CheckName(name);
        LineRuleOptions.Check(settings);
        LineNovelPool.Check(new NovelPoolSettings(poolCapacity ?? NovelPoolSettings.DefaultCapacity, reclusterEvery ?? 0));
        var (result, source, path, _) = LineResultFile.Read(resultPath);
        LineCatalog catalog;
        string? missing;
        try
        {
            var version = store.NextVersion(name);
            catalog = JobLineCatalog.Create(name, version, result, source, path, settings);
            var defaults = new ClusteringJobOptions();
            (var scoring, var bank, missing) = await LocalLineScoring.RecordAsync(name, version, result, source, given,
                () => EmbeddedCluster.StartAsync(storeFolder, new BackboneRuntimeOptions(), defaults.BatchSize, defaults.ClusteringMemoryBudgetBytes, console.Error, cancellationToken),
                cancellationToken).ConfigureAwait(false);
            catalog = catalog with { Scoring = scoring, Source = catalog.Source with { ReferenceBank = bank ?? catalog.Source.ReferenceBank } };
        }
        catch (InvalidClusteringInputException e)
        {
            throw new CliInputException($"{path}: {e.Message}", e);
        }
        var written = store.Add(catalog);
        if (reclusterEvery is not null || poolCapacity is not null)
        {
            var pool = store.Pool(name);
            var before = await pool.SettingsAsync(cancellationToken).ConfigureAwait(false);
            var pooled = before with { Capacity = poolCapacity ?? before.Capacity, ReclusterEvery = reclusterEvery ?? before.ReclusterEvery };
            await pool.SaveSettingsAsync(pooled, cancellationToken).ConfigureAwait(false);
            console.Out.MarkupLine($"  novel pool: at most {pooled.Capacity} images, {(pooled.ReclusterEvery == 0 ? "reclustered on request" : $"reclustered every {pooled.ReclusterEvery} novel images")}");
        }
        console.Out.MarkupLine($"line [bold]{Markup.Escape(name)}[/] version {catalog.Version}: {catalog.Clusters.Count} clusters from {result.Images.Count} images; wrote [blue]{Markup.Escape(written)}[/]");
        console.Out.MarkupLine(missing is null
            ? "  takes new images here: [bold]line feed[/] processes them as the job did"
            : $"  [yellow]line feed cannot decide new images of this version here[/]: {Markup.Escape(missing)}");
        return CliExitCodes.Success;
    }
}
