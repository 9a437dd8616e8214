using System.Collections.Concurrent;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The coordinator's silo dies while the job is still embedding: the next call activates the coordinator on the surviving
/// coordinator silo, which reads the persisted progress, goes on from the images already embedded and finishes with the
/// clusters an uninterrupted run gives.
/// </summary>
public sealed class CoordinatorResumeTests : IAsyncLifetime
{
    private readonly string _storeFolder = Path.Combine(Path.GetTempPath(), "ac-resume-tests-" + Guid.NewGuid().ToString("n"));
    private readonly ConcurrentDictionary<string, (object State, string ETag)> _states = new();
    private InProcessTestCluster _cluster = null!;
    private LocalDirectoryBlobStore _store = null!;

    // Silo_0: coordinator; Silo_1: gpu-worker; Silo_2: both, so that a coordinator and a worker survive either kill.
    private static string[] RolesOf(string siloName) => siloName switch
    {
        "Silo_0" => [SiloRoles.Coordinator],
        "Silo_1" => [SiloRoles.GpuWorker],
        _ => [SiloRoles.Coordinator, SiloRoles.GpuWorker],
    };

    public async ValueTask InitializeAsync()
    {
        _store = new LocalDirectoryBlobStore(_storeFolder);
        var store = _store;
        var states = _states;
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            silo.Services.AddSingleton<IBlobStore>(store);
            // One image at a time and a checkpoint after each: the kill lands mid-embedding with progress on record.
            silo.Services.Configure<CoordinatorOptions>(coordinator =>
            {
                coordinator.MaxInFlightImages = 1;
                coordinator.CheckpointInterval = TimeSpan.Zero;
            });
            silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Jobs, (services, _) => new SharedGrainStorage(states, services.GetRequiredService<DeepCopier>()));
            silo.UseInMemoryReminderService();
            silo.AddAnomalyClusteringGrains(RolesOf(options.SiloName));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    [Fact]
    public async Task AJobWhoseCoordinatorSiloDiesWhileImagesAreProcessedResumesAndGivesTheSameClusters()
    {
        var data = await DemoDataset.CreateAsync(_store, seed: 91, imagesPerClass: 5);
        var coordinator = _cluster.Client.GetGrain<IClusteringJobGrain>("resume-me");
        // Shards of 3 images: the job is many shards long, so the kill surely lands between its first and its last.
        var status = await JobRuns.SubmitAsync(_store, _cluster.Client, "resume-me", data.Job(new JobOptions()), chunkSize: 3);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (status.WeightedImages < 3)
        {
            Assert.True(!status.IsFinished && status.State != JobState.Clustering, $"the job left processing before the kill: {status}");
            Assert.True(DateTime.UtcNow < deadline, $"no progress: {status}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
            status = await coordinator.GetStatus();
        }

        Assert.True(status.State == JobState.Weighting && status.WeightedImages < status.TotalImages, $"the kill must land mid-way: {status}");
        Assert.True(_cluster.TryGetGrainContext(coordinator.GetGrainId(), out var context));
        var host = _cluster.Silos.Single(silo => silo.SiloAddress.Equals(context.Address.SiloAddress));
        await _cluster.KillSiloAsync(host, TestContext.Current.CancellationToken);

        // The first answer after the kill comes from a new activation that read the persisted state.
        JobStatus? resumed = null;
        while (resumed is null)
        {
            Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromMinutes(1), "the job did not come back after the kill");
            try
            {
                resumed = await coordinator.GetStatus();
            }
            catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or OrleansException)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
        Assert.NotEqual(JobState.Unknown, resumed.State);
        Assert.True(resumed.State is JobState.Weighting or JobState.Clustering or JobState.Completed, $"the job started over: {resumed}");
        Assert.Equal(status.CreatedAt, resumed.CreatedAt);

        while (!resumed.IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromMinutes(2), $"the resumed job did not finish: {resumed}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
            resumed = await coordinator.GetStatus();
        }
        var result = await JobRuns.ResultAsync(_store, resumed);
        Assert.Equal(data.Images.Count, result.Images.Count);

        using var backbone = new OnnxBackbone(BackboneDescription.FromJson(DemoDataset.BackboneJson));
        var pipeline = new ClusteringPipeline(backbone, JobOptionsMapping.ToPipelineOptions(new JobOptions()))
            .Run(data.Found.Dataset, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(JobRuns.Clusters(pipeline), JobRuns.Clusters(result));
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        try
        {
            Directory.Delete(_storeFolder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
