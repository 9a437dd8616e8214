using System.CommandLine;
using System.Globalization;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>store list|drop</c>: the jobs that interrupted embedded runs kept in a store folder. A kept job waits for the command
/// that started it; these let a user see what waits and free its space without deleting the folder (and its feature cache).
/// </summary>
internal static class StoreCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliConsole console) =>
        new("store", "The jobs that interrupted 'cluster' runs kept in the local store, to resume: list them, drop them.")
        {
            CreateList(console),
            CreateDrop(console),
        };

    private static Option<string?> StoreOption() => new("--store")
    {
        Description = $"Folder of the embedded silo's blob store (as given to 'cluster --store'). Default: {EmbeddedCluster.DefaultStoreFolder}.",
        HelpName = "dir",
    };

    private static Command CreateList(CliConsole console)
    {
        var store = StoreOption();
        var command = new Command("list", "List the kept jobs: images done, space taken, and whether another process runs one now.") { store };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var folder = ExistingFolder(parseResult.GetValue(store));
            var jobs = await StoredJob.ListAsync(new LocalDirectoryBlobStore(folder), folder, cancellationToken).ConfigureAwait(false);
            if (jobs.Count == 0)
            {
                console.Out.MarkupLine(Markup.Escape($"{folder} holds no kept jobs."));
                return CliExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{jobs.Count} job(s) in {folder}"));
            foreach (var column in new[] { "job", "started", "images done", "mode, K", "MB", "state", "images from" })
            {
                table.AddColumn(column);
            }
            foreach (var job in jobs)
            {
                var spec = job.Record?.Specification;
                table.AddRow(
                    Markup.Escape(job.Id),
                    job.Record?.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "",
                    spec is null ? "" : FormattableString.Invariant($"{job.ImagesDone} of {spec.Manifest.ImageCount}"),
                    spec is null ? "" : Markup.Escape(spec.Options.Mode + (spec.Options.Clusters is { } k ? FormattableString.Invariant($", {k}") : "")),
                    (job.Bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture),
                    Markup.Escape(StateOf(job)),
                    Markup.Escape(spec?.Source ?? ""));
            }
            console.Out.Write(table);
            console.Out.MarkupLine(Markup.Escape(
                $"The command that started a kept job resumes it. 'anomaly-cluster store drop JOB_ID --store {folder}' (or --all) deletes one with its uploads; the feature cache stays."));
            return CliExitCodes.Success;
        });
        return command;
    }

    private static Command CreateDrop(CliConsole console)
    {
        var ids = new Argument<string[]>("job-id") { Description = "The jobs to drop, as 'store list' shows them.", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Drop every kept job that no process runs now." };
        var store = StoreOption();
        var command = new Command("drop", "Delete kept jobs: their state, uploaded images and outcomes (the feature cache stays).") { ids, all, store };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var named = parseResult.GetValue(ids) ?? [];
            var dropAll = parseResult.GetValue(all);
            if (named.Length > 0 && dropAll)
            {
                throw new CliInputException("give job ids or --all, not both.");
            }
            if (named.Length == 0 && !dropAll)
            {
                throw new CliInputException("name the jobs to drop (their ids, as 'anomaly-cluster store list' shows them) or give --all.");
            }
            var folder = ExistingFolder(parseResult.GetValue(store));
            var jobs = await StoredJob.ListAsync(new LocalDirectoryBlobStore(folder), folder, cancellationToken).ConfigureAwait(false);
            var chosen = dropAll ? jobs.Where(job => !job.RunningElsewhere).ToList() : [.. named.Distinct(StringComparer.Ordinal).Select(id => Find(jobs, id, folder))];
            if (chosen.Count == 0)
            {
                console.Out.MarkupLine(Markup.Escape($"{folder} holds no kept jobs to drop" + (jobs.Count > 0 ? $" ({jobs.Count} run in other processes now)." : ".")));
                return CliExitCodes.Success;
            }
            var defaults = new ClusteringJobOptions();
            await using var cluster = await EmbeddedCluster.StartAsync(folder, new BackboneRuntimeOptions(), defaults.BatchSize, defaults.ClusteringMemoryBudgetBytes, console.Error, cancellationToken)
                .ConfigureAwait(false);
            foreach (var job in chosen)
            {
                // Held while the job is deleted: a run of its command started meanwhile then runs a job of its own.
                using var jobLock = EmbeddedJobLock.TryTake(folder, job.Id) ?? throw RunningElsewhere(job.Id);
                await cluster.DeleteJobAsync(job.Id, cancellationToken).ConfigureAwait(false);
                console.Out.MarkupLine(Markup.Escape(FormattableString.Invariant($"dropped {job.Id} ({job.Bytes / 1e6:F1} MB)")));
            }
            return CliExitCodes.Success;
        });
        return command;
    }

    private static StoredJob Find(IReadOnlyList<StoredJob> jobs, string id, string folder) =>
        jobs.FirstOrDefault(job => job.Id == id) is { } job
            ? job.RunningElsewhere ? throw RunningElsewhere(id) : job
            : throw new CliInputException($"{folder} holds no job '{id}' (see 'anomaly-cluster store list --store {folder}').");

    private static CliInputException RunningElsewhere(string id) =>
        new($"job '{id}' runs in another process now; stop that run first (or let it finish: a finished run deletes its job).");

    private static string StateOf(StoredJob job) => job switch
    {
        { RunningElsewhere: true } => "running in another process",
        { Record: null } => $"stopped during the upload ({job.Uploads} images uploaded)",
        { Record.FinishedState: { } finished } => finished.ToString().ToLowerInvariant() + ": the next run of its command starts afresh",
        _ => "kept: its command resumes it",
    };

    /// <summary>The store folder given, or the default one; a folder that does not exist is an error, not a store to create.</summary>
    private static string ExistingFolder(string? given)
    {
        var folder = Path.GetFullPath(given ?? EmbeddedCluster.DefaultStoreFolder);
        return Directory.Exists(folder)
            ? folder
            : throw new CliInputException($"no store folder at {folder}" + (given is null ? " (no embedded run has used the default store yet)." : "."));
    }
}
