using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The product's exceptions cross grain calls as themselves: a worker's storage outage must reach its shard as a transient
/// error (retried), not as Orleans' CodecNotFoundException (the image failed for a dependency's outage).
/// </summary>
public sealed class ExceptionSerializationTests
{
    [Fact]
    public void AStorageOutageCrossesAGrainCallAsATransientBlobStoreError()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.UseLocalhostClustering().AddAnomalyClusteringGrains([SiloRoles.Coordinator, SiloRoles.GpuWorker]));
        using var host = builder.Build();
        var serializer = host.Services.GetRequiredService<Serializer>();
        Exception outage = new BlobStoreUnavailableException("the blob store at http://127.0.0.1:1/devstoreaccount1 did not answer.", "jobs/j/outcomes/1");

        var received = serializer.Deserialize<Exception>(serializer.SerializeToArray(outage));

        Assert.IsType<BlobStoreUnavailableException>(received);
        Assert.Equal(outage.Message, received.Message);
        Assert.True(BoundedFanOut.IsTransient(received));
    }
}
