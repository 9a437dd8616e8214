using System.CommandLine;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Workers;
using Spectre.Console;

namespace AnomalyClustering.Cli.Remote;

/// <summary>
/// <c>cluster &lt;dir&gt; --server URL</c>: finds the images like a local run, uploads them (and the normal images of
/// semi-supervised mode) to the server's job API, follows the job's progress, downloads the result document and writes
/// and prints the same outputs as a local run.
/// </summary>
internal static class RemoteClusterRun
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the job on the server and reports it; returns the exit code.</summary>
    public static async Task<int> RunAsync(
        CliConsole console, ParseResult parseResult, string imagesDir, ClusteringOptionSet shared, ImageJobOptionSet image, RemoteOptionSet remote,
        ClusterNames names, CancellationToken cancellationToken)
    {
        // Everything that can be refused is checked before any upload, so a mistake costs one line and no bandwidth.
        var server = JobApiClient.ParseServer(parseResult.GetValue(remote.Server)!);
        RemoteOptionSet.RefuseLocalOnlyOptions(parseResult, image, shared);
        var found = ImageFolderDiscovery.Discover(imagesDir, parseResult.GetValue(image.Normal));
        var options = shared.Apply(parseResult, image.Apply(parseResult, new ClusteringJobOptions()));
        ClusterCommand.Check(found, options, names);
        var backboneName = parseResult.GetValue(remote.BackboneName);
        var outputFolder = parseResult.GetValue(shared.Out)!;
        ResultFiles.CheckOutputFolder(outputFolder);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (files, unreadable) = ReadableFiles(UploadFiles(found, options));
        DescribeInput(console.Out, found, options, server, backboneName ?? BackboneHostOptions.BuiltInName);
        using var client = new JobApiClient(server, await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
        var jobId = $"cli-{Guid.CreateVersion7():N}";
        var accepted = await UploadAsync(console.Out, client, jobId, JobOptionsMapping.FromPipelineOptions(options), backboneName, files, cancellationToken).ConfigureAwait(false);
        console.Out.MarkupLine(FormattableString.Invariant(
            $"job [bold]{Markup.Escape(accepted.JobId)}[/] accepted by {Markup.Escape(server.ToString())}: {files.Count} files uploaded ({files.Sum(f => new FileInfo(f.Path).Length) / 1024.0:F0} KiB)"));

        var status = PipelineProgressDisplay.Run(console.Out, progress => JobStatusProgress.FollowAsync(
            accepted,
            token => client.GetStatusAsync(accepted.JobId, token),
            async () =>
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.CancelAsync(accepted.JobId, grace.Token).ConfigureAwait(false);
            },
            PollInterval, progress, cancellationToken).GetAwaiter().GetResult());
        var (result, source) = await DownloadResultAsync(client, status, cancellationToken).ConfigureAwait(false);
        var localPaths = files.ToDictionary(
            file => (file.IsNormalImage ? JobBlobNames.UploadedNormalImagesPrefix(status.JobId) : JobBlobNames.UploadedImagesPrefix(status.JobId)) + file.Name, file => file.Path, StringComparer.Ordinal);
        result = result with
        {
            // The wire options leave out how the work ran (batch size, threads); report the ones the user gave.
            Options = options with { ClusterCount = result.Options.ClusterCount },
            Errors = [.. unreadable, .. result.Errors.Select(error => error with { Path = localPaths.GetValueOrDefault(error.Path, error.Path) })],
        };
        ClusterCommand.WriteOutputs(console, found, options, result, ClusterCommand.Source(found, source.Backbone, source.Preprocessing), names, outputFolder, cancellationToken);
        // Upload, the job on the server and the download: what the user waited for, as a local run reports it.
        ClusterCommand.PrintTotalTime(console, result.Images.Count, clock.Elapsed);
        return CliExitCodes.Success;
    }

    /// <summary>
    /// Downloads a completed job's result (its summary and files, through a temporary folder); a job that failed or was
    /// cancelled is a one-line error.
    /// </summary>
    public static async Task<(ClusteringResult Result, ResultSource Source)> DownloadResultAsync(JobApiClient client, JobStatus status, CancellationToken cancellationToken)
    {
        switch (status.State)
        {
            case JobState.Failed:
                throw new CliInputException($"job {status.JobId} failed on the server: {status.Error}");
            case JobState.Cancelled:
                throw new CliInputException($"job {status.JobId} was cancelled on the server.");
        }
        var local = Directory.CreateTempSubdirectory("anomaly-cluster-result-");
        try
        {
            var summary = await client.DownloadResultAsync(status.JobId, local.FullName, ResultFolder.DataFileNames, cancellationToken).ConfigureAwait(false);
            return ResultFolder.ReadResultFile(summary);
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException($"the server's result of job {status.JobId} cannot be read: {e.Message}", e);
        }
        finally
        {
            local.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The files to send: the images under their ids (paths below the dataset folder, so the server finds the same layout
    /// and labels), and in semi-supervised mode the normal images under their ids, or their file names when they lie
    /// outside the dataset folder. The protocol's left-out images (<c>combined</c>) are not sent.
    /// </summary>
    private static List<UploadFile> UploadFiles(DiscoveredImageFolder found, ClusteringJobOptions options)
    {
        var files = found.Dataset.Images.Select(image => new UploadFile(image.Id, image.Path, IsNormalImage: false)).ToList();
        if (options.Mode == ClusteringMode.SemiSupervised)
        {
            // Only the normal images the job will use (the seeded subset of --normal-limit): the server selects none from them.
            files.AddRange(JobPlan.SelectNormalImages(found.Dataset.NormalImages, options).Select(image =>
                new UploadFile(Path.IsPathRooted(image.Id) ? Path.GetFileName(image.Path) : image.Id, image.Path, IsNormalImage: true)));
        }
        return files;
    }

    /// <summary>
    /// The files that can be read, and those that cannot (a broken link, no read permission, a named pipe), as image errors
    /// named like embedded mode's (<c>unreadable</c>): one such file must not abort the upload of the others.
    /// </summary>
    /// <exception cref="CliInputException">Fewer than 2 images to cluster can be read.</exception>
    private static (List<UploadFile> Readable, List<ImageError> Unreadable) ReadableFiles(List<UploadFile> files)
    {
        var readable = new List<UploadFile>(files.Count);
        var unreadable = new List<ImageError>();
        foreach (var file in files)
        {
            if (ImageFileAccess.Problem(file.Path) is { } problem)
            {
                unreadable.Add(new ImageError(file.Name, file.Path, "unreadable", problem, file.IsNormalImage));
            }
            else
            {
                readable.Add(file);
            }
        }
        var images = files.Count(file => !file.IsNormalImage);
        var readableImages = readable.Count(file => !file.IsNormalImage);
        if (readableImages < 2)
        {
            throw new CliInputException(
                $"only {readableImages} of {images} images could be read; clustering needs at least 2{MessageParts.InParentheses(unreadable.FirstOrDefault()?.Message)}.");
        }
        return (readable, unreadable);
    }

    private static async Task<JobStatus> UploadAsync(
        IAnsiConsole console, JobApiClient client, string jobId, JobOptions options, string? backboneName, IReadOnlyList<UploadFile> files, CancellationToken cancellationToken)
    {
        var totalBytes = files.Sum(file => new FileInfo(file.Path).Length);
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"uploading {files.Count} images", autoStart: true, maxValue: Math.Max(1, totalBytes));
                var status = await client.UploadAsync(jobId, options, backboneName, files, new ProgressTaskValue(task), cancellationToken).ConfigureAwait(false);
                task.Value = task.MaxValue;
                return status;
            }).ConfigureAwait(false);
    }

    private static void DescribeInput(IAnsiConsole console, DiscoveredImageFolder found, ClusteringJobOptions options, Uri server, string backboneName)
    {
        JobInputDescription.WriteDataset(console, found,
            options.Mode == ClusteringMode.SemiSupervised ? "uploaded as the normal set" : "not used in this mode, not uploaded");
        var cut = JobInputDescription.Cut(options, found);
        console.MarkupLine(
            $"  server {Markup.Escape(server.ToString())}, backbone {Markup.Escape(backboneName)}, mode {ClusteringOptionNames.Of(options.Mode)}, tau {options.Tau}, {ClusteringOptionNames.Of(options.Linkage)} linkage, {cut}");
    }

    /// <summary>Feeds uploaded byte counts into a Spectre progress task (thread-safe: Spectre locks its tasks).</summary>
    private sealed class ProgressTaskValue(ProgressTask task) : IProgress<long>
    {
        public void Report(long value) => task.Value = Math.Min(value, task.MaxValue);
    }
}
