using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace AnomalyClustering.Testing;

/// <summary>An Orleans client of a test cluster: finds the gateways through the cluster's Redis, as an external client would.</summary>
internal static class ClusterClientHost
{
    /// <summary>A (not yet started) host whose <c>IClusterClient</c> talks to the cluster of <paramref name="settings"/>.</summary>
    public static IHost Build(ClusterSettings settings, TimeSpan? responseTimeout = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(options => options.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnectionString));
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = settings.ClusterId;
                options.ServiceId = settings.ServiceId;
            });
            if (responseTimeout is { } timeout)
            {
                client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = timeout);
            }
        });
        return builder.Build();
    }
}
