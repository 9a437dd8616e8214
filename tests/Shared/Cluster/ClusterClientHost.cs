using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace AnomalyClustering.Testing;

/// <summary>An Orleans client of a test cluster: finds the gateways through the cluster's Redis, as an external client would.</summary>
internal static class ClusterClientHost
{
    /// <summary>
    /// A (not yet started) host whose <c>IClusterClient</c> talks to the cluster of <paramref name="settings"/>;
    /// <paramref name="configure"/> adds to the client (e.g. a stream provider).
    /// </summary>
    public static IHost Build(ClusterSettings settings, TimeSpan? responseTimeout = null, Action<IClientBuilder>? configure = null)
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
            configure?.Invoke(client);
        });
        return builder.Build();
    }
}
