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
using Orleans.Serialization;
using Orleans.Storage;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// The CLI's embedded mode: one in-process silo holding both roles, on loopback ports of its own, with a local-folder blob
/// store. A job runs through the same grains as in a cluster; only the transport and the storage differ. The store keeps
/// the feature cache between runs, so a second run over the same images skips the backbone, and the jobs' grain state
/// (coordinator, shards, registry: its <c>grain-state</c> folder), so that a killed run resumes when run again.
/// </summary>
internal sealed class EmbeddedCluster : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private readonly IHost _host;
    private readonly string _storeFolder;
    private readonly StoreFolderLock _folderLock;

    private EmbeddedCluster(IHost host, IBlobStore store, string storeFolder, StoreFolderLock folderLock)
    {
        _host = host;
        Store = store;
        _storeFolder = storeFolder;
        _folderLock = folderLock;
    }

    /// <summary>The store the silo reads images from and writes features and results to.</summary>
    public IBlobStore Store { get; }

    /// <summary>The silo's own client: grains and the intake stream (<c>line feed</c>).</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Backbone runs of this silo (for the feature-cache checks of tests and the run summary).</summary>
    public BackboneSessions Backbones => _host.Services.GetRequiredService<BackboneSessions>();

    /// <summary>The silo's patch scoring (which nearest-patch kernel its workers use).</summary>
    public PatchScoring PatchScoring => _host.Services.GetRequiredService<PatchScoring>();

    /// <summary>The folder the CLI keeps its store in unless <c>--store</c> says otherwise: the user's cache folder.</summary>
    public static string DefaultStoreFolder =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "anomaly-clustering");

    /// <summary>Where the silo of <paramref name="storeFolder"/> keeps its jobs' grain state (coordinators and shards), one file each.</summary>
    public static string GrainStateFolderOf(string storeFolder) => Path.Combine(storeFolder, "grain-state");

    /// <summary>
    /// Starts the silo. <paramref name="batchSize"/> is the most images per backbone run; <paramref name="runtime"/>'s intra-op
    /// threads, when set, also bound the images worked on at once (the CLI's <c>--threads</c>); its coordinator clusters within
    /// <paramref name="clusteringMemoryBudgetBytes"/> (the CLI's <c>--memory-budget</c>: here the user is the operator).
    /// The store's lock is held shared while the silo runs (<see cref="StoreFolderLock"/>): other CLI runs may use the store
    /// at once, a server may not; with .NET's file locking off, the lock keeps no server out, which is said on
    /// <paramref name="warnings"/> (standard error; <see cref="TextWriter.Null"/> for a store no server can know of).
    /// </summary>
    /// <exception cref="CliInputException">A server holds the store folder, or its lock cannot be written.</exception>
    public static async Task<EmbeddedCluster> StartAsync(
        string storeFolder, BackboneRuntimeOptions runtime, int batchSize, long clusteringMemoryBudgetBytes, TextWriter warnings,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(warnings);
        var store = new LocalDirectoryBlobStore(storeFolder);
        var folderLock = TakeStoreLock(store.RootFolder, warnings);
        try
        {
            var host = await StartHostAsync(store, runtime, batchSize, clusteringMemoryBudgetBytes, cancellationToken).ConfigureAwait(false);
            return new EmbeddedCluster(host, store, store.RootFolder, folderLock);
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The store's lock, shared with other CLI runs. A server that owns the folder would resume this run's jobs as its own
    /// (and this run the server's), since both keep their job records there: the run is refused and told where to go. Taken
    /// with file locking off, it refuses nothing: the run goes on, warned (<see cref="FileLockingOffWarning"/>).
    /// Commands that write the store without a silo (<c>line recluster</c>, <c>line name</c>) take it too.
    /// </summary>
    /// <exception cref="CliInputException">A server holds the store folder, or its lock cannot be written.</exception>
    public static StoreFolderLock TakeStoreLock(string storeFolder, TextWriter warnings)
    {
        try
        {
            var taken = StoreFolderLock.TakeShared(storeFolder);
            if (StoreFolderLock.FileLockingIsOff())
            {
                warnings.WriteLine(FileLockingOffWarning(storeFolder));
            }
            return taken;
        }
        catch (StoreFolderInUseException e)
        {
            throw new CliInputException(
                $"the store folder {e.Folder} belongs to a running anomaly-clustering server{MessageParts.InParentheses(e.Holder)}; send the job to that server with --server URL, or give this run another folder with --store.", e);
        }
        catch (StoreFolderLockException e)
        {
            throw new CliInputException($"{e.Message} Or give this run another folder with --store.", e);
        }
    }

    /// <summary>
    /// What a CLI run on <paramref name="storeFolder"/> says with file locking off, in one line as its <c>error:</c> lines.
    /// Not the server's text: CLI runs share the lock anyway, so the one risk is a server on the same folder, which this run
    /// can then neither see nor keep out.
    /// </summary>
    internal static string FileLockingOffWarning(string storeFolder) =>
        $"warning: file locking is off in this process ({StoreFolderLock.FileLockingVariable} or the AppContext switch {StoreFolderLock.FileLockingSwitch}), so the lock of the store folder '{storeFolder}' would not keep a server out (a server and CLI runs on one folder would resume the same jobs and write the same files): start no server on this folder while CLI runs use it, and send jobs for a server's folder to that server with --server URL.";

    private static async Task<IHost> StartHostAsync(
        LocalDirectoryBlobStore store, BackboneRuntimeOptions runtime, int batchSize, long clusteringMemoryBudgetBytes, CancellationToken cancellationToken)
    {
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
        // The worker settings a cluster reads from AnomalyClustering:Worker (e.g. AnomalyClustering__Worker__NearestPatchKernel=Onnx
        // in the environment), then the CLI's own.
        builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection(WorkerOptions.Section));
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
            // In the store folder rather than in memory: a job's progress outlives a killed process (see PrepareAsync); the job
            // registry, which every run on the store would share, stays in memory (EmbeddedJobStorage).
            silo.AddMemoryGrainStorage(EmbeddedJobStorage.RegistryName);
            silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Jobs, (services, _) => new EmbeddedJobStorage(
                new AtomicFileGrainStorage(GrainStateFolderOf(store.RootFolder), services.GetRequiredService<Serializer>()),
                services.GetRequiredKeyedService<IGrainStorage>(EmbeddedJobStorage.RegistryName)));
            silo.AddMemoryGrainStorage(GrainStorageNames.StreamPubSub);
            // In memory, not in files as a one-node server keeps them: a run resumes its own job from its state when the same
            // command runs again, and finishes a deletion it finds started; several runs share a store, so reminders kept there
            // would wake, in one run, the jobs another run is running.
            silo.UseInMemoryReminderService();
            // Production-line intake (line feed) on Orleans' in-memory streams: the same consumer as a cluster's queue.
            silo.AddLineIntakeStreams(configuration: null);
            silo.AddAnomalyClusteringGrains(SiloRoles.All);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>
    /// Finds out how the job of these images and options starts: as a new job, or as the one a killed run of the same command
    /// left in the store, which it then resumes (its coordinator and shards kept their state there; images already done are
    /// not done again). A finished one (failed or cancelled) is deleted first, so that it runs afresh.
    /// </summary>
    public async Task<EmbeddedJob> PrepareAsync(ClusteringDataset dataset, ClusteringJobOptions options, BackboneDescription description)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        var id = EmbeddedJobIdentity.Of(dataset, JobOptionsMapping.FromPipelineOptions(options), description.ToJson());
        if (EmbeddedJobLock.TryTake(_storeFolder, id) is not { } jobLock)
        {
            // The same job runs in another process on this store: this run is a job of its own, as if the images differed (locked
            // too, so that other runs do not count it as left by an interrupted one).
            var unique = EmbeddedJobIdentity.Unique();
            return new EmbeddedJob(unique, resumed: null, EmbeddedJobLock.TryTake(_storeFolder, unique), resumable: false);
        }
        try
        {
            var grains = _host.Services.GetRequiredService<IGrainFactory>();
            // Activating the coordinator of a kept job resumes it (its stored state says it is running).
            var status = await grains.GetGrain<IClusteringJobGrain>(id).GetStatus().ConfigureAwait(false);
            // A failed or cancelled job starts again from nothing, and so does one whose deletion an earlier run did not
            // finish (killed while it deleted): a job being deleted never resumes, its deletion does (this waits for it).
            var leftOver = status.State is JobState.Failed or JobState.Cancelled || status.DeletionStartedAt is not null;
            if (leftOver)
            {
                await JobDeletion.DeleteAsync(grains, id).ConfigureAwait(false);
            }
            return new EmbeddedJob(id, leftOver || status.State == JobState.Unknown ? null : status, jobLock, resumable: true);
        }
        catch
        {
            jobLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The jobs that interrupted runs left in the store and that no process runs now (other than <paramref name="exceptJobId"/>),
    /// with the bytes their uploads and outcomes take: a kept job waits for its own command to be run again, so one whose
    /// images or options then changed would otherwise hold its disk space unnoticed (<c>store list</c> names them).
    /// </summary>
    public async Task<(int Jobs, long Bytes)> KeptJobsAsync(string exceptJobId, CancellationToken cancellationToken = default)
    {
        var kept = (await StoredJob.ListAsync(Store, _storeFolder, cancellationToken).ConfigureAwait(false))
            .Where(job => job.Id != exceptJobId && !job.RunningElsewhere)
            .ToList();
        return (kept.Count, kept.Sum(job => job.Bytes));
    }

    /// <summary>
    /// Deletes a job of the store (<c>store drop</c>): stops it if this silo resumed it, clears its state, deletes its uploads
    /// and what it wrote. The feature cache stays (it is keyed by image content, not by job).
    /// </summary>
    public Task DeleteJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        JobDeletion.DeleteAsync(_host.Services.GetRequiredService<IGrainFactory>(), jobId, cancellationToken);

    /// <summary>Runs the job of <paramref name="found"/> as <see cref="RunAsync(EmbeddedJob, DiscoveredImageFolder, ClusteringJobOptions, BackboneDescription, IProgress{PipelineProgress}?, CancellationToken, GroundTruthMasks?)"/> does, prepared here.</summary>
    /// <exception cref="InvalidClusteringInputException">The job was refused or failed for a reason the input causes.</exception>
    public async Task<ClusteringResult> RunAsync(
        DiscoveredImageFolder found, ClusteringJobOptions options, BackboneDescription description, IProgress<PipelineProgress>? progress,
        CancellationToken cancellationToken, GroundTruthMasks? masks = null)
    {
        // Opening the backbone here, before any work, turns a missing model or GPU into the CLI's usual typed error.
        Backbones.Get(description.ToJson());
        var job = await PrepareAsync(found.Dataset, options, description).ConfigureAwait(false);
        return await RunAsync(job, found, options, description, progress, cancellationToken, masks).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one job: copies the images into the store and submits the job to its coordinator (or, for a job resumed from the
    /// store, follows it where it stands), reports progress until it ends, and returns its result with the per-image errors
    /// naming the original files. The job's blobs and state are removed afterwards (the CLI writes its own outputs), also when
    /// it fails; a job stopped once submitted (Ctrl+C, SIGTERM: <see cref="EmbeddedJobKeptException"/>) or killed is kept,
    /// for the next run of the same command to resume.
    /// </summary>
    /// <remarks>
    /// With <paramref name="masks"/> (a dataset with ground-truth masks), the result also gets pixel AUROC and PRO, from the
    /// patch scores in the job's outcome blobs, read before those are removed.
    /// </remarks>
    /// <exception cref="InvalidClusteringInputException">The job was refused or failed for a reason the input causes.</exception>
    public async Task<ClusteringResult> RunAsync(
        EmbeddedJob job, DiscoveredImageFolder found, ClusteringJobOptions options, BackboneDescription description, IProgress<PipelineProgress>? progress,
        CancellationToken cancellationToken, GroundTruthMasks? masks = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var dataset = found.Dataset;
        try
        {
            Backbones.Get(description.ToJson());
        }
        catch
        {
            // Nothing ran: a kept job stays in the store for a run that can open the backbone.
            job.Dispose();
            throw;
        }
        var grains = _host.Services.GetRequiredService<IGrainFactory>();
        var coordinator = grains.GetGrain<IClusteringJobGrain>(job.Id);
        var normalImages = options.Mode == ClusteringMode.SemiSupervised
            // Only the normal images the job will use (the seeded subset of --normal-limit); the coordinator keeps them all.
            ? JobPlan.SelectNormalImages(dataset.NormalImages, options)
            : [];
        var pathsByBlob = new Dictionary<string, string>(StringComparer.Ordinal);
        // Once submitted, a job stopped by Ctrl+C or SIGTERM is kept for the same command to resume, not deleted.
        var submitted = job.Resumed is not null;
        var kept = false;
        try
        {
            var unreadable = new List<ImageError>();
            JobImage[] images;
            JobStatus status;
            if (job.Resumed is { } resumed)
            {
                images = await SubmittedImagesAsync(job.Id, coordinator, dataset.Images, normalImages, pathsByBlob, unreadable, cancellationToken).ConfigureAwait(false);
                status = resumed;
            }
            else
            {
                images = await UploadAsync(dataset.Images, JobBlobNames.UploadedImagesPrefix(job.Id), pathsByBlob, unreadable, isNormal: false, cancellationToken).ConfigureAwait(false);
                var normals = await UploadAsync(normalImages, JobBlobNames.UploadedNormalImagesPrefix(job.Id), pathsByBlob, unreadable, isNormal: true, cancellationToken).ConfigureAwait(false);
                if (images.Length < 2)
                {
                    throw new InvalidClusteringInputException(
                        $"only {images.Length} of {dataset.Images.Count} images could be read; clustering needs at least 2{MessageParts.InParentheses(unreadable.FirstOrDefault()?.Message)}.", "images");
                }
                var submission = new JobSubmission(images, normals, JobOptionsMapping.FromPipelineOptions(options), description.ToJson(), "anomaly-cluster (embedded): " + Path.GetFullPath(found.Root));
                try
                {
                    status = await JobSubmitter.SubmitAsync(Store, grains, job.Id, submission, cancellationToken: cancellationToken).ConfigureAwait(false);
                    submitted = true;
                }
                catch (InvalidJobException e)
                {
                    throw new InvalidClusteringInputException(e.Message, e.Field);
                }
            }
            try
            {
                status = await JobStatusProgress.FollowAsync(
                    status, _ => coordinator.GetStatus(), () => job.Resumable ? Task.CompletedTask : coordinator.Cancel(), PollInterval, progress, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && submitted && job.Resumable)
            {
                kept = true;
                throw new EmbeddedJobKeptException(
                    $"stopped: the job is kept in {_storeFolder}; run the same command again to resume it where it stopped (deleting the folder drops it).");
            }
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
                    PixelDetection = await PixelDetectionEvaluation.EvaluateAsync(Store, job.Id, files, result, masks, description.Preprocessing, cancellationToken).ConfigureAwait(false),
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
            if (!kept)
            {
                // Stops the job if it still runs (an error here), then clears its state and deletes its blobs and uploads.
                await JobDeletion.DeleteAsync(grains, job.Id, CancellationToken.None).ConfigureAwait(false);
            }
            job.Dispose();
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
            var blob = UploadedBlobName(prefix, i, image);
            // Asked before opening: a named pipe would block the open until something writes to it.
            if (ImageFileAccess.NotRegularProblem(image.Path) is { } notRegular)
            {
                unreadable.Add(new ImageError(image.Id, image.Path, "unreadable", notRegular, isNormal));
                continue;
            }
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

    /// <summary>
    /// The images a resumed job was submitted with, read back from its manifest (the store already holds their uploads), and
    /// the files its first run could not read: those the manifest lacks.
    /// </summary>
    private async Task<JobImage[]> SubmittedImagesAsync(
        string jobId, IClusteringJobGrain coordinator, IReadOnlyList<DatasetImage> images, IReadOnlyList<DatasetImage> normalImages,
        Dictionary<string, string> pathsByBlob, List<ImageError> unreadable, CancellationToken cancellationToken)
    {
        var manifest = await coordinator.GetManifest().ConfigureAwait(false)
            ?? throw new InvalidOperationException($"job {jobId} was resumed but its coordinator holds no manifest.");
        var submitted = new List<JobImage>(manifest.ImageCount);
        await foreach (var image in JobManifestStore.ReadImagesAsync(Store, manifest, cancellationToken).ConfigureAwait(false))
        {
            submitted.Add(image);
        }
        var submittedNormals = new HashSet<string>(StringComparer.Ordinal);
        for (var chunk = 0; chunk * manifest.ChunkSize < manifest.NormalImageCount; chunk++)
        {
            foreach (var image in await JobManifestStore.ReadNormalChunkAsync(Store, manifest, chunk, cancellationToken).ConfigureAwait(false))
            {
                submittedNormals.Add(image.BlobName);
            }
        }
        var submittedImages = submitted.Select(image => image.BlobName).ToHashSet(StringComparer.Ordinal);
        Recall(images, JobBlobNames.UploadedImagesPrefix(jobId), submittedImages, isNormal: false);
        Recall(normalImages, JobBlobNames.UploadedNormalImagesPrefix(jobId), submittedNormals, isNormal: true);
        return [.. submitted];

        void Recall(IReadOnlyList<DatasetImage> files, string prefix, HashSet<string> inManifest, bool isNormal)
        {
            for (var i = 0; i < files.Count; i++)
            {
                var blob = UploadedBlobName(prefix, i, files[i]);
                if (inManifest.Contains(blob))
                {
                    pathsByBlob[blob] = files[i].Path;
                }
                else
                {
                    unreadable.Add(new ImageError(files[i].Id, files[i].Path, "unreadable", "the file could not be read when the job was started.", isNormal));
                }
            }
        }
    }

    /// <summary>Blob names by position: file names may hold characters blob names refuse; the id keeps the user's name.</summary>
    private static string UploadedBlobName(string prefix, int position, DatasetImage image) =>
        $"{prefix}{position}{Path.GetExtension(image.Path).ToLowerInvariant()}";

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync().ConfigureAwait(false);
            _host.Dispose();
        }
        finally
        {
            _folderLock.Dispose();
        }
    }
}
