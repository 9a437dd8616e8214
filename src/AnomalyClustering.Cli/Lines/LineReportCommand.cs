using System.CommandLine;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Reports.Thumbnails;
using Spectre.Console;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// <c>line report NAME [--since 24h] [-o FILE]</c>: an HTML page of a line's recent decisions (<see cref="LineReportPage"/>),
/// read from the local store or, with <c>--server</c>, from the server's line API. Reads every decision of the window (page
/// by page) and the images and patch weights of the few it shows.
/// </summary>
internal static class LineReportCommand
{
    /// <summary>Images shown per defect type.</summary>
    public const int ImagesPerType = 6;

    /// <summary>Novel images shown.</summary>
    public const int NovelImages = 48;

    private const int ThumbnailSize = 128;

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The line." };
        var since = new Option<string>("--since")
        {
            Description = "The window: a duration back from now (90m, 24h, 7d, 2w) or an ISO 8601 time.",
            DefaultValueFactory = _ => "24h",
            HelpName = "duration|time",
        };
        var output = new Option<string?>("--out", "-o") { Description = "The HTML file to write. Default: line-<name>.html here.", HelpName = "file" };
        var store = LineStoreOption.Create();
        var remote = new RemoteOptionSet();
        var command = new Command("report", "Write an HTML page of a line's decisions: counts per defect type over time, the newest images of each type with heat maps, the novel pool.")
        {
            name, since, output, store, remote.Server,
        };
        remote.Credentials.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult, parseResult.GetValue(name)!, parseResult.GetValue(since)!,
            parseResult.GetValue(output), parseResult.GetValue(store), remote, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliConsole console, ParseResult parseResult, string name, string sinceText, string? output, string? storeFolder, RemoteOptionSet remote, CancellationToken cancellationToken)
    {
        LocalLineStore.CheckName(name);
        var until = DateTimeOffset.UtcNow;
        var since = LineReportWindow.Start(sinceText, until);
        var path = Path.GetFullPath(output ?? $"line-{name}.html");
        JobApiClient? client = null;
        try
        {
            ILineReportSource source;
            if (parseResult.GetValue(remote.Server) is { } server)
            {
                if (storeFolder is not null)
                {
                    throw new CliInputException("--store names the local store of embedded runs; with --server the server's store is used.");
                }
                client = new JobApiClient(JobApiClient.ParseServer(server), await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
                await client.GetLineAsync(name, cancellationToken).ConfigureAwait(false);
                source = new RemoteLineReportSource(client, name);
            }
            else
            {
                if (parseResult.GetValue(remote.Credentials.Token) is not null || parseResult.GetValue(remote.Credentials.Audience) is not null)
                {
                    throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server (a local report needs no token).");
                }
                var folder = storeFolder ?? EmbeddedCluster.DefaultStoreFolder;
                // Throws the CLI's one-line error for a line the store does not hold.
                new LocalLineStore(folder).Read(name);
                source = new LocalLineReportSource(folder, name);
            }
            var model = await BuildAsync(name, since, until, source, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, LineReportPage.Render(model), cancellationToken).ConfigureAwait(false);
            console.Out.MarkupLine($"{model.Decisions.Count} decisions of line [bold]{Markup.Escape(name)}[/] since {since.UtcDateTime:yyyy-MM-dd HH:mm} UTC "
                                   + $"({model.NewestByType.Count} defect types, {model.Decisions.Count(d => d.Outcome == LineDecision.Novel)} novel); report written to {Markup.Escape(path)}");
            return CliExitCodes.Success;
        }
        finally
        {
            client?.Dispose();
        }
    }

    private static async Task<LineReportModel> BuildAsync(string name, DateTimeOffset since, DateTimeOffset until, ILineReportSource source, CancellationToken cancellationToken)
    {
        var decisions = await source.DecisionsAsync(since, until, cancellationToken).ConfigureAwait(false);
        var renderer = new ThumbnailRenderer(ThumbnailSize, preprocessing: null);
        var byType = new Dictionary<string, IReadOnlyList<LineReportImage>>(StringComparer.Ordinal);
        foreach (var type in decisions.Where(d => d.Outcome is "assigned" or "ambiguous").GroupBy(d => d.Decision, StringComparer.Ordinal))
        {
            byType[type.Key] = await ImagesAsync(type.OrderByDescending(d => d.DecidedAt).Take(ImagesPerType), source, renderer, cancellationToken).ConfigureAwait(false);
        }
        var novel = await ImagesAsync(decisions.Where(d => d.Outcome == LineDecision.Novel).OrderByDescending(d => d.DecidedAt).Take(NovelImages), source, renderer, cancellationToken).ConfigureAwait(false);
        return new LineReportModel(name, since, until, decisions, byType, novel);
    }

    private static async Task<IReadOnlyList<LineReportImage>> ImagesAsync(
        IEnumerable<LineDecision> decisions, ILineReportSource source, ThumbnailRenderer renderer, CancellationToken cancellationToken)
    {
        var images = new List<LineReportImage>();
        foreach (var decision in decisions)
        {
            var bytes = await source.ImageAsync(decision.ImageId, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                images.Add(new LineReportImage(decision, null, null));
                continue;
            }
            var weights = await source.PatchWeightsAsync(decision.ImageId, cancellationToken).ConfigureAwait(false);
            // The outcome stores the weights without the grid's shape: the backbones' grids are square (the image is fitted
            // to a square input), so a map whose length is not a square is not drawn.
            var side = weights is null ? 0 : (int)Math.Round(Math.Sqrt(weights.Length));
            var alpha = side > 0 && side * side == weights!.Length ? weights : null;
            try
            {
                var rendered = alpha is null ? renderer.Render(bytes, decision.ImageId) : renderer.Render(bytes, decision.ImageId, alpha, side, side);
                images.Add(new LineReportImage(decision, rendered.Image, rendered.Heat));
            }
            catch (ImageDecodeException)
            {
                images.Add(new LineReportImage(decision, null, null));
            }
        }
        return images;
    }
}
