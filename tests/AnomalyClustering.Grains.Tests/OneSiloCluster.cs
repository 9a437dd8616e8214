using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// One in-process silo with both roles over <paramref name="store"/>, job state and reminders in memory: the cluster of the
/// tests that watch one coordinator closely. <paramref name="configure"/> adds the test's own options.
/// </summary>
internal static class OneSiloCluster
{
    public static async Task<InProcessTestCluster> StartAsync(IBlobStore store, Action<IServiceCollection>? configure = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(store);
            configure?.Invoke(silo.Services);
            silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
            silo.UseInMemoryReminderService();
            silo.AddAnomalyClusteringGrains([SiloRoles.Coordinator, SiloRoles.GpuWorker]);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync(TestContext.Current.CancellationToken);
        return cluster;
    }
}
