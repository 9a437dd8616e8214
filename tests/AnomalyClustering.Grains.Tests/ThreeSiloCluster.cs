using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// An in-process Orleans cluster of three silos: the first (Silo_0) holds the coordinator role, the other two the gpu-worker
/// role, as in a deployment with one CPU pod and two GPU pods. All share one local-folder blob store (the stand-in for the
/// Azure container). Shared by the tests of a class; disposed at the end.
/// </summary>
public class ThreeSiloCluster : IAsyncLifetime
{
    private readonly string _storeFolder = Path.Combine(Path.GetTempPath(), "ac-grains-tests-" + Guid.NewGuid().ToString("n"));

    /// <summary>The cluster.</summary>
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The blob store every silo uses.</summary>
    public LocalDirectoryBlobStore Store { get; private set; } = null!;

    /// <summary>The role of a test-cluster silo by name: the primary coordinates, the others are workers.</summary>
    public static string RoleOf(string siloName) => siloName == "Silo_0" ? SiloRoles.Coordinator : SiloRoles.GpuWorker;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Store = new LocalDirectoryBlobStore(_storeFolder);
        var store = Store;
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            silo.Services.AddSingleton<IBlobStore>(store);
            silo.Services.Configure<WorkerOptions>(worker => worker.MaxBatchSize = 8);
            silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
            ConfigureReminders(silo);
            silo.AddAnomalyClusteringGrains([RoleOf(options.SiloName)]);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>The silos' reminder service: in memory; a test cluster can put a faulty table in front of it.</summary>
    protected virtual void ConfigureReminders(ISiloBuilder silo) => silo.UseInMemoryReminderService();

    /// <summary>The backbone sessions of a silo (to count inferences per silo).</summary>
    public BackboneSessions BackbonesOf(InProcessSiloHandle silo) => Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<BackboneSessions>();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_storeFolder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
