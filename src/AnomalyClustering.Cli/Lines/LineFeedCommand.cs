using System.CommandLine;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line feed NAME FOLDER [--watch]</c>: sends a folder's images to a line and prints each decision, then a summary. Without
/// <c>--server</c>, an embedded silo decides them through the intake stream (in memory) over the local store
/// (<see cref="EmbeddedLineFeed"/>); with it, the server's line API does (<see cref="RemoteLineFeed"/>). Re-feeding a folder
/// logs no image twice; <c>--watch</c> keeps sending new files until Ctrl+C.
/// </summary>
internal static class LineFeedCommand
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line (its newest catalog decides the images)." };
        var folder = new Argument<string>("folder") { Description = "The folder of images (sub-folders too); files that are not images are listed as left out." };
        var watch = new Option<bool>("--watch") { Description = "After the folder's images, keep sending new files as they arrive, until Ctrl+C." };
        var store = LineStoreOption.Create();
        var remote = new RemoteOptionSet();
        var command = new Command("feed", "Send a folder's images to a line: each is decided (a known defect type, novel, or an error) and logged once.")
        {
            name, folder, watch, store, remote.Server,
        };
        remote.Credentials.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult, parseResult.GetValue(name)!, parseResult.GetValue(folder)!,
            parseResult.GetValue(watch), parseResult.GetValue(store), remote, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliConsole console, ParseResult parseResult, string name, string folder, bool watch, string? storeFolder, RemoteOptionSet remote, CancellationToken cancellationToken)
    {
        LocalLineStore.CheckName(name);
        if (!Directory.Exists(folder))
        {
            throw new CliInputException($"folder '{folder}' does not exist.");
        }
        var summary = new LineFeedSummary(console);
        if (parseResult.GetValue(remote.Server) is { } server)
        {
            if (storeFolder is not null)
            {
                throw new CliInputException("--store names the local store of embedded runs; with --server the server's store is used.");
            }
            using var client = new JobApiClient(JobApiClient.ParseServer(server), await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
            var feed = new RemoteLineFeed(client, name);
            await FeedAsync(folder, watch, summary, feed.DecideAsync, cancellationToken).ConfigureAwait(false);
            summary.Print(name, feed.CatalogVersion, pending: 0);
            return CliExitCodes.Success;
        }
        if (parseResult.GetValue(remote.Credentials.Token) is not null || parseResult.GetValue(remote.Credentials.Audience) is not null)
        {
            throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server (a local feed needs no token).");
        }
        var storePath = storeFolder ?? EmbeddedCluster.DefaultStoreFolder;
        var catalog = new LocalLineStore(storePath).Read(name);
        if (catalog.Scoring is null)
        {
            throw new CliInputException(
                $"line '{name}' version {catalog.Version} cannot decide new images here: its catalog does not record how its job processed images ('line create' said why: give it the job's --model, and keep the job's image folder where the result says); or make the line on a server from a job and feed it with --server.");
        }
        var defaults = new ClusteringJobOptions();
        await using var cluster = await EmbeddedCluster.StartAsync(storePath, new BackboneRuntimeOptions(), defaults.BatchSize, defaults.ClusteringMemoryBudgetBytes, console.Error, cancellationToken).ConfigureAwait(false);
        var embedded = new EmbeddedLineFeed(cluster, name);
        await FeedAsync(folder, watch, summary, embedded.DecideAsync, cancellationToken).ConfigureAwait(false);
        summary.Print(name, catalog.Version, embedded.Pending);
        return CliExitCodes.Success;
    }

    private static async Task FeedAsync(
        string folder, bool watch, LineFeedSummary summary, Func<IReadOnlyList<FeedFile>, Action<FeedFile, LineImageResult>, CancellationToken, Task> decide,
        CancellationToken cancellationToken)
    {
        var files = new LineFeedFolder(folder);
        try
        {
            while (true)
            {
                var (ready, leftOut) = files.Next(watching: watch);
                foreach (var file in leftOut)
                {
                    summary.Add(file);
                }
                if (ready.Count > 0)
                {
                    await decide(ready, summary.Add, cancellationToken).ConfigureAwait(false);
                }
                if (!watch)
                {
                    return;
                }
                await Task.Delay(WatchInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (watch && cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C ends a watch: the summary follows.
        }
    }
}
