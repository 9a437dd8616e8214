using System.Net;
using System.Net.Sockets;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Evaluation;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// The CLI's embedded mode: one in-process silo holding both roles, on loopback ports of its own, with a local-folder blob
/// store. A job runs through the same grains as in a cluster; only the transport and the storage differ. The store keeps
/// the feature cache between runs, so a second run over the same images skips the backbone.
/// </summary>
internal sealed class EmbeddedCluster : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private readonly IHost _host;

    private EmbeddedCluster(IHost host, IBlobStore store)
    {
        _host = host;
        Store = store;
    }

    /// <summary>The store the silo reads images from and writes features and results to.</summary>
    public IBlobStore Store { get; }

    /// <summary>The silo's own client: grains and the intake stream (<c>line feed</c>).</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Backbone runs of this silo (for the feature-cache checks of tests and the run summary).</summary>
    public BackboneSessions Backbones => _host.Services.GetRequiredService<BackboneSessions>();

    /// <summary>The folder the CLI keeps its store in unless <c>--store</c> says otherwise: the user's cache folder.</summary>
    public static string DefaultStoreFolder =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "anomaly-clustering");

    /// <summary>
    /// Starts the silo. <paramref name="batchSize"/> is the most images per backbone run; <paramref name="runtime"/>'s intra-op
    /// threads, when set, also bound the images worked on at once (the CLI's <c>--threads</c>); its coordinator clusters within
    /// <paramref name="clusteringMemoryBudgetBytes"/> (the CLI's <c>--memory-budget</c>: here the user is the operator).
    /// </summary>
    public static async Task<EmbeddedCluster> StartAsync(
        string storeFolder, BackboneRuntimeOptions runtime, int batchSize, long clusteringMemoryBudgetBytes, CancellationToken cancellationToken)
    {
        var store = new LocalDirectoryBlobStore(storeFolder);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // The CLI reports through its own display; the silo's logs would drown it. Real problems surface as job errors.
        builder.Logging.ClearProviders();
        // Traces and metrics leave the process only when OTEL_EXPORTER_OTLP_ENDPOINT says where to.
        builder.Configuration.AddEnvironmentVariables();
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<IBlobStore>(store);
        builder.Services.Configure<BackboneHostOptions>(options =>
        {
            options.ExecutionProvider = runtime.ExecutionProvider;
            options.DeviceId = runtime.DeviceId;
            options.IntraOpThreads = runtime.IntraOpThreads;
        });
        builder.Services.Configure<WorkerOptions>(options => options.MaxBatchSize = batchSize);
        builder.Services.Configure<CoordinatorOptions>(options =>
        {
            options.ClusteringMemoryBudgetBytes = clusteringMemoryBudgetBytes;
            if (runtime.IntraOpThreads > 0)
            {
                // --threads N: each image grain scores on one thread, so N images at a time keep scoring to N threads.
                options.MaxInFlightImages = runtime.IntraOpThreads;
            }
        });
        var (siloPort, gatewayPort) = (FreeLoopbackPort(), FreeLoopbackPort());
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "anomaly-cluster-cli", clusterId: "embedded");
            silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
            silo.AddMemoryGrainStorage(GrainStorageNames.StreamPubSub);
            silo.UseInMemoryReminderService();
            // Production-line intake (line feed) on Orleans' in-memory streams: the same consumer as a cluster's queue.
            silo.AddLineIntakeStreams(configuration: null);
            silo.AddAnomalyClusteringGrains(SiloRoles.All);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddedCluster(host, store);
    }

    /// <summary>
    /// Runs one job: copies the images into the store, submits the job to its coordinator, reports progress until it ends,
    /// and returns its result with the per-image errors naming the original files. The job's blobs are removed afterwards
    /// (the CLI writes its own outputs); the feature cache stays.
    /// </summary>
    /// <remarks>
    /// With <paramref name="masks"/> (a dataset with ground-truth masks), the result also gets pixel AUROC and PRO, from the
    /// patch scores in the job's outcome blobs, read before those are removed.
    /// </remarks>
    /// <exception cref="InvalidClusteringInputException">The job was refused or failed for a reason the input causes.</exception>
    public async Task<ClusteringResult> RunAsync(
        ClusteringDataset dataset, ClusteringJobOptions options, BackboneDescription description, IProgress<PipelineProgress>? progress,
        CancellationToken cancellationToken, GroundTruthMasks? masks = null)
    {
        // Opening the backbone here, before any work, turns a missing model or GPU into the CLI's usual typed error.
        Backbones.Get(description.ToJson());
        var jobId = $"cli-{Guid.NewGuid():n}";
        var pathsByBlob = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var unreadable = new List<ImageError>();
            var images = await UploadAsync(dataset.Images, JobBlobNames.UploadedImagesPrefix(jobId), pathsByBlob, unreadable, isNormal: false, cancellationToken).ConfigureAwait(false);
            var normals = options.Mode == ClusteringMode.SemiSupervised
                // Only the normal images the job will use (the seeded subset of --normal-limit); the coordinator keeps them all.
                ? await UploadAsync(JobPlan.SelectNormalImages(dataset.NormalImages, options), JobBlobNames.UploadedNormalImagesPrefix(jobId), pathsByBlob, unreadable, isNormal: true, cancellationToken).ConfigureAwait(false)
                : [];
            if (images.Length < 2)
            {
                throw new InvalidClusteringInputException(
                    $"only {images.Length} of {dataset.Images.Count} images could be read; clustering needs at least 2{MessageParts.InParentheses(unreadable.FirstOrDefault()?.Message)}.", "images");
            }
            var submission = new JobSubmission(images, normals, JobOptionsMapping.FromPipelineOptions(options), description.ToJson(), "anomaly-cluster (embedded)");
            var grains = _host.Services.GetRequiredService<IGrainFactory>();
            var coordinator = grains.GetGrain<IClusteringJobGrain>(jobId);
            JobStatus status;
            try
            {
                status = await JobSubmitter.SubmitAsync(Store, grains, jobId, submission, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidJobException e)
            {
                throw new InvalidClusteringInputException(e.Message, e.Field);
            }
            status = await JobStatusProgress.FollowAsync(
                status, _ => coordinator.GetStatus(), () => coordinator.Cancel(), PollInterval, progress, cancellationToken).ConfigureAwait(false);
            if (status.State == JobState.Failed)
            {
                throw new InvalidClusteringInputException(status.Error ?? "the job failed.", "images");
            }
            var (result, _) = await JobResultFiles.ReadAsync(Store, status.ResultBlob!, cancellationToken).ConfigureAwait(false);
            if (masks is not null && result.Detection is not null)
            {
                var files = images.Select((image, index) => new PixelDetectionEvaluation.JobImageFile(image.Id, pathsByBlob[image.BlobName], index)).ToArray();
                result = result with
                {
                    PixelDetection = await PixelDetectionEvaluation.EvaluateAsync(Store, jobId, files, result, masks, description.Preprocessing, cancellationToken).ConfigureAwait(false),
                };
            }
            return result with
            {
                // The wire options leave out how the work ran (batch size, threads); report the ones the user gave.
                Options = options with { ClusterCount = result.Options.ClusterCount },
                Errors = [.. unreadable, .. result.Errors.Select(error => error with { Path = pathsByBlob.GetValueOrDefault(error.Path, error.Path) })],
            };
        }
        finally
        {
            await Store.DeletePrefixAsync(JobBlobNames.UploadPrefix(jobId)).ConfigureAwait(false);
            await Store.DeletePrefixAsync(JobBlobNames.JobPrefix(jobId)).ConfigureAwait(false);
            await JobRecordStore.DeleteAsync(Store, jobId).ConfigureAwait(false);
        }
    }

    private async Task<JobImage[]> UploadAsync(
        IReadOnlyList<DatasetImage> images, string prefix, Dictionary<string, string> pathsByBlob, List<ImageError> unreadable, bool isNormal,
        CancellationToken cancellationToken)
    {
        var uploaded = new List<JobImage>(images.Count);
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i];
            // Blob names by position: file names may hold characters blob names refuse; the id keeps the user's name.
            var blob = $"{prefix}{i}{Path.GetExtension(image.Path).ToLowerInvariant()}";
            try
            {
                await using var file = File.OpenRead(image.Path);
                await Store.PutAsync(blob, file, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file that cannot be read never reaches the job; it is reported like any other bad image.
                unreadable.Add(new ImageError(image.Id, image.Path, "unreadable", $"cannot read the file: {e.Message}", isNormal));
                continue;
            }
            pathsByBlob[blob] = image.Path;
            uploaded.Add(new JobImage(image.Id, blob, image.Label));
        }
        return [.. uploaded];
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }
}
