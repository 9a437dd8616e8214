using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Output;
using Spectre.Console;

namespace AnomalyClustering.Cli.Remote;

/// <summary><c>jobs list|status|result|cancel|delete --server URL</c>: the jobs of an anomaly-clustering server.</summary>
internal static class JobsCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliConsole console)
    {
        var server = new Option<string>("--server") { Description = "The server's HTTP API, e.g. http://host:8080.", HelpName = "url", Required = true };
        var command = new Command("jobs", "Follow and fetch the jobs of an anomaly-clustering server (see 'cluster --server').");
        var credentials = new BearerTokenOptions();

        var limit = new Option<int>("--limit") { Description = "Most jobs to list.", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "List the newest jobs.") { server, limit };
        credentials.AddTo(list);
        list.SetAction(async (parseResult, cancellationToken) =>
        {
            using var client = await ConnectAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var jobs = await client.ListAsync(parseResult.GetValue(limit), cancellationToken).ConfigureAwait(false);
            var table = new Table().Border(TableBorder.Rounded).Title($"{jobs.Length} jobs on {Markup.Escape(client.Server.ToString())}");
            foreach (var column in new[] { "job", "state", "images", "failed", "clusters", "created" })
            {
                table.AddColumn(column);
            }
            foreach (var job in jobs)
            {
                table.AddRow(
                    Markup.Escape(job.JobId), StateName(job.State), job.TotalImages.ToString(CultureInfo.InvariantCulture), job.FailedImages.ToString(CultureInfo.InvariantCulture),
                    job.ClusterCount?.ToString(CultureInfo.InvariantCulture) ?? "", job.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            }
            console.Out.Write(table);
            return CliExitCodes.Success;
        });

        var status = StatusCommand("status", "Show a job's state and progress.", (client, id, token) => client.GetStatusAsync(id, token));

        var resultId = JobIdArgument();
        var output = new Option<string>("--out", "-o") { Description = "Folder for clusters.csv and result.json.", DefaultValueFactory = _ => "out", HelpName = "dir" };
        var result = new Command("result", "Download a completed job's result: clusters.csv and result.json.") { resultId, server, output };
        credentials.AddTo(result);
        result.SetAction(async (parseResult, cancellationToken) =>
        {
            using var client = await ConnectAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var job = await client.GetStatusAsync(parseResult.GetValue(resultId)!, cancellationToken).ConfigureAwait(false);
            if (!job.IsFinished)
            {
                throw new CliInputException($"job {job.JobId} is {StateName(job.State)}; its result exists once it is completed (see 'jobs status {job.JobId}').");
            }
            var (clustering, source) = await RemoteClusterRun.DownloadResultAsync(client, job, cancellationToken).ConfigureAwait(false);
            var (clustersCsv, resultJson) = ResultFiles.Write(parseResult.GetValue(output)!, clustering, source);
            ResultReport.Print(console.Out, clustering, clustersCsv, resultJson);
            return CliExitCodes.Success;
        });

        var cancel = StatusCommand("cancel", "Cancel a job (a finished job stays as it is).", (client, id, token) => client.CancelAsync(id, token));
        var retry = StatusCommand("retry", "Start a failed or cancelled job again from its own images and options (any other job stays as it is).",
            (client, id, token) => client.RetryAsync(id, token));

        var deleteId = JobIdArgument();
        var delete = new Command("delete", "Delete a job: cancel it if it runs, delete its uploaded images and its result on the server (waits until it is gone, showing a large job's progress).") { deleteId, server };
        credentials.AddTo(delete);
        delete.SetAction(async (parseResult, cancellationToken) =>
        {
            using var client = await ConnectAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var jobId = parseResult.GetValue(deleteId)!;
            // A large job's deletion goes on in the cluster past the request; its progress is shown as it is followed.
            await client.DeleteAsync(jobId, status => console.Out.MarkupLine(Markup.Escape(
                $"deleting job {jobId}: {status.DeletedBlobs:N0} blobs deleted" + (status.DeletionError is { } error ? $"; retrying after: {error}" : ""))),
                cancellationToken).ConfigureAwait(false);
            console.Out.MarkupLine($"job [bold]{Markup.Escape(jobId)}[/] deleted");
            return CliExitCodes.Success;
        });

        command.Add(list);
        command.Add(status);
        command.Add(result);
        command.Add(cancel);
        command.Add(retry);
        command.Add(delete);
        return command;

        async Task<JobApiClient> ConnectAsync(ParseResult parseResult, CancellationToken cancellationToken) =>
            new(JobApiClient.ParseServer(parseResult.GetValue(server)!), await credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));

        // A command that sends one request about one job and prints the job's status it answers with.
        Command StatusCommand(string name, string description, Func<JobApiClient, string, CancellationToken, Task<JobStatus>> request)
        {
            var id = JobIdArgument();
            var statusCommand = new Command(name, description) { id, server };
            credentials.AddTo(statusCommand);
            statusCommand.SetAction(async (parseResult, cancellationToken) =>
            {
                using var client = await ConnectAsync(parseResult, cancellationToken).ConfigureAwait(false);
                PrintStatus(console.Out, await request(client, parseResult.GetValue(id)!, cancellationToken).ConfigureAwait(false));
                return CliExitCodes.Success;
            });
            return statusCommand;
        }
    }

    private static Argument<string> JobIdArgument() => new("job-id") { Description = "The job's id (as 'cluster --server' and 'jobs list' show it)." };

    private static string StateName(JobState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());

    private static void PrintStatus(IAnsiConsole console, JobStatus status)
    {
        console.MarkupLine($"job [bold]{Markup.Escape(status.JobId)}[/]: {StateName(status.State)}");
        console.MarkupLine(FormattableString.Invariant(
            $"  images {status.TotalImages} (+{status.TotalNormalImages} normal), embedded {status.EmbeddedImages} ({status.CacheHits} from the feature cache), weighted {status.WeightedImages}, failed {status.FailedImages}"));
        if (status.ClusterCount is { } clusters)
        {
            console.MarkupLine(FormattableString.Invariant($"  {clusters} clusters"));
        }
        if (status.Error is { } error)
        {
            console.MarkupLine($"  [red]error[/]: {Markup.Escape(error)}");
        }
        console.MarkupLine(FormattableString.Invariant($"  created {status.CreatedAt:u}, updated {status.UpdatedAt:u}, source {Markup.Escape(status.Source)}"));
    }
}
