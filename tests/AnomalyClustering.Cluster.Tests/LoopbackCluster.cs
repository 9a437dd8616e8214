using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace AnomalyClustering.Cluster.Tests;

/// <summary>
/// A cluster of separate silo processes on loopback for the tests of one class: redis-server (membership, grain state,
/// reminders) and Azurite (blobs) started here, one coordinator silo and two gpu-worker silos running the built
/// AnomalyClustering.Silo.dll, an Orleans client in the test process, and a small labelled synthetic dataset uploaded to
/// the blob store. Everything is stopped (process trees killed) and removed at the end. Missing redis-server, Azurite or
/// silo build: <see cref="SkipReason"/> says which, and the tests skip. A durable cluster (the fault tests') keeps Redis's
/// data in an append-only file and Azurite's on disk, so that either can be stopped and started again with its data.
/// </summary>
public class LoopbackCluster : IAsyncLifetime
{
    /// <summary>Orleans__ServiceId of the test silos.</summary>
    public const string ServiceId = "anomaly-clustering-tests";

    /// <summary>Image grains a coordinator keeps in flight: small, so that a job lasts long enough to interrupt it.</summary>
    public const int CoordinatorInFlightImages = 2;

    /// <summary>
    /// How long the coordinators' image calls may wait while nothing of their run finishes before they are sent again
    /// (the product's default is 3 minutes). Why shorter: these tests restart coordinators and workers, and a request
    /// the cluster loses while its membership changes is only resent after this wait; at the default it used up a whole
    /// 3-minute wait of a test (seen in CI: a job after a coordinator restart stalled at 16 of 36 embedded, nothing
    /// logged). A minute is still far above one call's time here (a few seconds on a loaded machine).
    /// </summary>
    public static readonly TimeSpan ImageCallStallTimeout = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(2);

    private readonly List<SiloProcess> silos = [];
    // Silos killed or stopped by a test: their output still tells what happened before a failure.
    private readonly List<SiloProcess> retired = [];
    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> shared = new(StringComparer.Ordinal);
    private RedisServer? redis;
    private AzuriteProcess? azurite;
    private IHost? clientHost;
    private string? siloAssembly;
    private ClusterSettings? settings;
    private string? dataFolder;
    private readonly bool durable;
    private int workersStarted;
    private int coordinatorRestarts;

    /// <summary>A cluster whose Redis and Azurite keep their data in memory.</summary>
    public LoopbackCluster() : this(durable: false)
    {
    }

    /// <summary>A cluster whose Redis and Azurite keep their data on disk when <paramref name="durable"/>.</summary>
    protected LoopbackCluster(bool durable) => this.durable = durable;

    /// <summary>
    /// Settings of the production-line intake for every silo and the test's client (keys with '__'); none here, so the
    /// silos' default (in-memory streams) applies. <see cref="IntakeQueueCluster"/> puts it on Azurite's queue service.
    /// </summary>
    protected virtual IReadOnlyDictionary<string, string> IntakeSettings => new Dictionary<string, string>();

    /// <summary>More settings for every silo (keys with '__'), beside <see cref="IntakeSettings"/>; none here.</summary>
    protected virtual IReadOnlyDictionary<string, string> SiloSettings => new Dictionary<string, string>();

    /// <summary>Why the cluster cannot run here, or null when it is running.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>The Orleans client connected to the cluster.</summary>
    public IClusterClient Client => clientHost!.Services.GetRequiredService<IClusterClient>();

    /// <summary>The blob store the silos use (Azurite, the default container).</summary>
    public IBlobStore Store { get; private set; } = null!;

    /// <summary>The coordinator silo now running.</summary>
    internal SiloProcess Coordinator { get; private set; } = null!;

    /// <summary>The gpu-worker silos.</summary>
    internal IReadOnlyList<SiloProcess> Workers => silos.Where(silo => silo.Roles == SiloRoles.GpuWorker).ToArray();

    /// <summary>The dataset on disk (MVTec layout) as the CLI discovers it.</summary>
    internal DiscoveredImageFolder Dataset { get; private set; } = null!;

    /// <summary>The built-in backbone as the CLI uses it (whole images, stretched).</summary>
    public static BackboneDescription Backbone => BuiltInBackbone.WholeImageDescription;

    /// <summary>The job over <see cref="Dataset"/>: image id = path relative to the dataset root, label = class folder, default options.</summary>
    public JobSubmission Specification { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var redisExecutable = RedisServer.FindExecutable();
        siloAssembly = SiloProcess.FindAssembly(typeof(LoopbackCluster).Assembly, TestPaths.RepositoryRoot);
        SkipReason = redisExecutable is null ? "redis-server is not installed (apt-get install redis-server); the cluster tests need it."
            : AzuriteFixture.MissingReason is { } azuriteMissing ? azuriteMissing
            : siloAssembly is null ? "the silo host is not built (src/AnomalyClustering.Silo/bin/<configuration>/net10.0/AnomalyClustering.Silo.dll); build the solution first."
            : null;
        if (SkipReason is not null)
        {
            return;
        }
        try
        {
            await StartAsync(redisExecutable!);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(string redisExecutable)
    {
        dataFolder = Directory.CreateTempSubdirectory("cluster-tests-").FullName;
        var written = SyntheticProductLine.Write(dataFolder, new SyntheticProductLineOptions { ImagesPerClass = 6, NormalTrainingImages = 2, Seed = 11 });
        Dataset = ImageFolderDiscovery.Discover(written.Root);

        // Redis and Azurite start side by side; whichever started is stopped by DisposeAsync if the other failed.
        var redisStart = RedisServer.StartAsync(redisExecutable, appendOnly: durable);
        var azuriteStart = AzuriteProcess.StartAsync(
            AzuriteFixture.Launcher, queueLauncher: IntakeSettings.Count > 0 ? AzuriteFixture.QueueLauncher : null, onDisk: durable);
        try
        {
            await Task.WhenAll(redisStart, azuriteStart);
        }
        finally
        {
            redis = redisStart.IsCompletedSuccessfully ? redisStart.Result : null;
            azurite = azuriteStart.IsCompletedSuccessfully ? azuriteStart.Result : null;
        }

        settings = new ClusterSettings($"tests-{Guid.NewGuid():N}"[..20], ServiceId, redis!.ConnectionString, azurite!.ConnectionString,
            IntakeSettings.Concat(SiloSettings).ToDictionary());
        silos.Add(StartCoordinator());
        silos.Add(StartWorker());
        silos.Add(StartWorker());
        Coordinator = silos[0];

        Store = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, "anomaly-clustering");
        Specification = await UploadAsync();
        await Task.WhenAll(silos.Select(silo => silo.WaitReadyAsync(ReadyTimeout)));
        await ConnectClientAsync();
    }

    /// <summary>
    /// Connects the test's Orleans client, replacing the one it had (a cluster rebuilt after its membership table was lost is
    /// a new cluster to a client, as to the coordinators' own API).
    /// </summary>
    internal async Task ConnectClientAsync()
    {
        await StopClientAsync();
        var cluster = settings!;
        clientHost = ClusterClientHost.Build(cluster, responseTimeout: TimeSpan.FromSeconds(30), configure: IntakeSettings.Count == 0 ? null
            : client => client.AddLineIntakeStreams(new ConfigurationBuilder().AddInMemoryCollection(
                IntakeSettings.Select(pair => KeyValuePair.Create(pair.Key.Replace("__", ":", StringComparison.Ordinal), (string?)pair.Value))
                    .Append(KeyValuePair.Create("ConnectionStrings:Blobs", (string?)cluster.BlobConnectionString))).Build()));
        using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await clientHost.StartAsync(connectTimeout.Token);
    }

    /// <summary>
    /// Kills the coordinator process (a crash) and starts a new one on the same silo and gateway ports (a restarted pod), so
    /// that the new incarnation declares the old one dead at once; returns when the new one is ready.
    /// </summary>
    internal async Task<SiloProcess> RestartCoordinatorAsync()
    {
        var old = Coordinator;
        await old.KillAsync();
        var restarted = StartCoordinator(old.SiloPort, old.GatewayPort, name: $"coordinator-restart{++coordinatorRestarts}");
        silos[silos.IndexOf(old)] = restarted;
        Coordinator = restarted;
        retired.Add(old);
        await old.DisposeAsync();
        await restarted.WaitReadyAsync(ReadyTimeout);
        return restarted;
    }

    /// <summary>
    /// Kills a silo and starts a new process of the same role on the same ports (what Kubernetes does to a container whose
    /// liveness probe fails); returns when the new one is ready.
    /// </summary>
    internal async Task<SiloProcess> RestartSiloAsync(SiloProcess old)
    {
        if (old == Coordinator)
        {
            return await RestartCoordinatorAsync();
        }
        await old.KillAsync();
        var restarted = SiloProcess.Start(siloAssembly!, settings!, $"{old.Name}-restart", old.Roles, old.SiloPort, old.GatewayPort);
        silos[silos.IndexOf(old)] = restarted;
        retired.Add(old);
        await old.DisposeAsync();
        await restarted.WaitReadyAsync(ReadyTimeout);
        return restarted;
    }

    /// <summary>Starts one more gpu-worker and waits until it is ready.</summary>
    internal async Task<SiloProcess> StartExtraWorkerAsync()
    {
        var worker = StartWorker();
        silos.Add(worker);
        await worker.WaitReadyAsync(ReadyTimeout);
        return worker;
    }

    /// <summary>Every silo now running.</summary>
    internal IReadOnlyList<SiloProcess> Silos => silos;

    /// <summary>Kills a worker process (a crash: no graceful shutdown); it stays dead.</summary>
    internal Task KillAsync(SiloProcess worker) => worker.KillAsync();

    /// <summary>
    /// Stops a gpu-worker: a kill (a crash) or, when <paramref name="graceful"/>, SIGTERM with 60 s for Orleans' graceful
    /// shutdown. It leaves the cluster's worker list; <see cref="StartMissingWorkersAsync"/> replaces it.
    /// </summary>
    internal async Task StopWorkerAsync(SiloProcess worker, bool graceful)
    {
        if (graceful)
        {
            await worker.TerminateAsync(TimeSpan.FromSeconds(60));
        }
        else
        {
            await worker.KillAsync();
        }
        silos.Remove(worker);
        retired.Add(worker);
        await worker.DisposeAsync();
    }

    /// <summary>Starts new gpu-workers (as Kubernetes replaces lost pods) until there are two, and waits until they are ready.</summary>
    internal async Task StartMissingWorkersAsync()
    {
        var started = new List<SiloProcess>();
        while (Workers.Count < 2)
        {
            var worker = StartWorker();
            silos.Add(worker);
            started.Add(worker);
        }
        await Task.WhenAll(started.Select(worker => worker.WaitReadyAsync(ReadyTimeout)));
    }

    /// <summary>Redis (the durable cluster's keeps its data in an append-only file).</summary>
    internal RedisServer Redis => redis!;

    /// <summary>Azurite (the durable cluster's keeps its blobs on disk).</summary>
    internal AzuriteProcess Azurite => azurite!;

    /// <summary>
    /// The outcome of <paramref name="compute"/>, computed once for all tests of the class (the first caller runs it;
    /// a failure fails every test that needs it, with the same message).
    /// </summary>
    public async Task<T> SharedAsync<T>(string name, Func<Task<T>> compute) where T : class =>
        (T)await shared.GetOrAdd(name, _ => new Lazy<Task<object>>(async () => await compute())).Value;

    /// <summary>Skips the calling test when the cluster cannot run here.</summary>
    public void SkipWhenUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    /// <summary>
    /// The tails of the output of every silo (those killed or stopped before too), Redis and Azurite, for failure messages;
    /// each names the file that holds its whole output.
    /// </summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.AppendLine($"(every process's whole output: {LoggedProcess.LogFolder})");
        foreach (var silo in retired)
        {
            text.AppendLine("(stopped or killed) " + silo.Process.Tail());
        }
        foreach (var silo in silos)
        {
            text.AppendLine(silo.Process.Tail());
        }
        if (redis is not null)
        {
            text.AppendLine(redis.Tail());
        }
        if (azurite is not null)
        {
            text.AppendLine(azurite.Tail());
        }
        return text.ToString();
    }

    /// <summary>Reads the result document a completed job wrote.</summary>
    public async Task<ClusteringResult> ReadResultAsync(JobStatus status)
    {
        Assert.True(status.ResultBlob is not null, $"job {status.JobId} has no result blob (state {status.State}).");
        return (await JobResultFiles.ReadAsync(Store, status.ResultBlob, CancellationToken.None)).Result;
    }

    /// <summary>
    /// Polls the job until <paramref name="until"/> holds for its status or it is finished, and returns that status. Failed
    /// calls (a coordinator being replaced) are retried; after <paramref name="timeout"/> it throws with the last status and
    /// the silos' output.
    /// </summary>
    public async Task<JobStatus> WaitUntilAsync(string jobId, TimeSpan timeout, Func<JobStatus, bool> until)
    {
        var job = Client.GetGrain<IClusteringJobGrain>(jobId);
        var clock = Stopwatch.StartNew();
        JobStatus? last = null;
        Exception? lastError = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = await job.GetStatus().WaitAsync(TimeSpan.FromSeconds(15));
                lastError = null;
            }
            catch (Exception e) when (e is not Xunit.Sdk.IAssertionException)
            {
                lastError = e;
                await Task.Delay(250);
                continue;
            }
            if (until(last) || last.IsFinished)
            {
                return last;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException(
            $"job {jobId}: waited {timeout.TotalSeconds:F0} s; last status {Describe(last)}; last error {lastError?.GetType().Name}: {lastError?.Message ?? "none"}.\n{Diagnostics()}");
    }

    /// <summary>Polls the job until it is finished (see <see cref="WaitUntilAsync"/>).</summary>
    public Task<JobStatus> WaitFinishedAsync(string jobId, TimeSpan timeout) => WaitUntilAsync(jobId, timeout, status => status.IsFinished);

    /// <summary>Submits a job, waits for it, and returns its status and result; a job that did not complete fails the test with its error.</summary>
    public async Task<(JobStatus Status, ClusteringResult Result)> RunJobAsync(string jobId, JobSubmission specification)
    {
        var submitted = await JobSubmitter.SubmitAsync(Store, Client, jobId, specification);
        Assert.Equal(jobId, submitted.JobId);
        var status = await WaitFinishedAsync(jobId, TimeSpan.FromMinutes(3));
        await AssertCompletedAsync(status);
        return (status, await ReadResultAsync(status));
    }

    /// <summary>Fails with the job's error, its image failures and the silos' output unless it completed.</summary>
    public async Task AssertCompletedAsync(JobStatus status)
    {
        if (status.State == JobState.Completed)
        {
            return;
        }
        var failures = await Client.GetGrain<IClusteringJobGrain>(status.JobId).GetFailures();
        Assert.Fail($"job {status.JobId} ended {Describe(status)}; image failures: {string.Join("; ", failures.Select(f => $"{f.Id}: {f.Reason} {f.Message}"))}\n{Diagnostics()}");
    }

    /// <summary>A status in one line.</summary>
    public static string Describe(JobStatus? status) => status is null ? "none"
        : $"{status.State} (embedded {status.EmbeddedImages}/{status.TotalImages}, cache hits {status.CacheHits}, weighted {status.WeightedImages}, failed {status.FailedImages}{(status.Error is null ? "" : ", error: " + status.Error)})";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopClientAsync();
        foreach (var silo in silos)
        {
            await silo.DisposeAsync();
        }
        silos.Clear();
        if (redis is not null)
        {
            await redis.DisposeAsync();
            redis = null;
        }
        if (azurite is not null)
        {
            await azurite.DisposeAsync();
            azurite = null;
        }
        if (dataFolder is not null && Directory.Exists(dataFolder))
        {
            Directory.Delete(dataFolder, recursive: true);
            dataFolder = null;
        }
    }

    private async Task StopClientAsync()
    {
        if (clientHost is not null)
        {
            try
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await clientHost.StopAsync(stopTimeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or ObjectDisposedException)
            {
                // The silos go next anyway.
            }
            clientHost.Dispose();
            clientHost = null;
        }
    }

    private SiloProcess StartWorker() =>
        SiloProcess.Start(siloAssembly!, settings!, $"worker-{++workersStarted}", SiloRoles.GpuWorker);

    private SiloProcess StartCoordinator(int? siloPort = null, int? gatewayPort = null, string name = "coordinator") =>
        SiloProcess.Start(siloAssembly!, settings!, name, SiloRoles.Coordinator, siloPort, gatewayPort,
            new Dictionary<string, string>
            {
                ["AnomalyClustering__Coordinator__MaxInFlightImages"] = CoordinatorInFlightImages.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["AnomalyClustering__Coordinator__ImageCallStallTimeout"] = ImageCallStallTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            });

    /// <summary>Uploads every image of the dataset as <c>datasets/&lt;cluster id&gt;/&lt;image id&gt;</c> and builds the job.</summary>
    private async Task<JobSubmission> UploadAsync()
    {
        var prefix = $"datasets/{settings!.ClusterId}/";
        async Task<JobImage> Upload(DatasetImage image)
        {
            await using var file = File.OpenRead(image.Path);
            await Store.PutAsync(prefix + image.Id, file);
            return new JobImage(image.Id, prefix + image.Id, image.Label);
        }
        var images = new List<JobImage>();
        foreach (var image in Dataset.Dataset.Images)
        {
            images.Add(await Upload(image));
        }
        var normals = new List<JobImage>();
        foreach (var image in Dataset.Dataset.NormalImages)
        {
            normals.Add(await Upload(image));
        }
        return new JobSubmission(images, normals, new JobOptions(), Backbone.ToJson(), Source: Dataset.Root);
    }
}
