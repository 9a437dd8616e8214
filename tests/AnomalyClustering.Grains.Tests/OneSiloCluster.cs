using System.Collections.Concurrent;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// One in-process silo with both roles over <paramref name="store"/>, job state and reminders in memory: the cluster of the
/// tests that watch one coordinator closely. <paramref name="configure"/> adds the test's own options; with
/// <paramref name="jobStates"/> the coordinators' state is kept there (<see cref="SharedGrainStorage"/>), where a test can
/// take it away as an empty Redis does.
/// </summary>
internal static class OneSiloCluster
{
    public static async Task<InProcessTestCluster> StartAsync(
        IBlobStore store, Action<IServiceCollection>? configure = null, ConcurrentDictionary<string, (object State, string ETag)>? jobStates = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(store);
            configure?.Invoke(silo.Services);
            if (jobStates is null)
            {
                silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
            }
            else
            {
                silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Jobs, (services, _) => new SharedGrainStorage(jobStates, services.GetRequiredService<DeepCopier>()));
            }
            silo.UseInMemoryReminderService();
            silo.AddAnomalyClusteringGrains([SiloRoles.Coordinator, SiloRoles.GpuWorker]);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync(TestContext.Current.CancellationToken);
        return cluster;
    }
}
