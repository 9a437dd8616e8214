using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace AnomalyClustering.Silo.Health;

/// <summary>
/// Liveness (<c>/health/live</c>: the process answers) and readiness (<c>/health/ready</c>: this silo is an active member of
/// the cluster and the blob store answers). Kubernetes restarts a pod that is not live and sends no traffic to one not ready.
/// </summary>
public static class SiloHealthChecks
{
    private const string ReadyTag = "ready";

    /// <summary>Registers the readiness checks.</summary>
    public static IServiceCollection AddAnomalyClusteringHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<SiloMembershipHealthCheck>("silo-membership", tags: [ReadyTag])
            .AddCheck<BlobStoreHealthCheck>("blob-store", tags: [ReadyTag]);
        return services;
    }

    /// <summary>Maps <c>/health/live</c> (no checks) and <c>/health/ready</c> (the readiness checks).</summary>
    public static IEndpointRouteBuilder MapAnomalyClusteringHealthChecks(this IEndpointRouteBuilder endpoints)
    {
        // Kubernetes' probes carry no token; the answers say only healthy or not.
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous();
        return endpoints;
    }
}

/// <summary>Healthy when this silo is Active in the cluster's membership.</summary>
internal sealed class SiloMembershipHealthCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {silo.Name} is active")
            : HealthCheckResult.Unhealthy($"silo {silo.Name} is {status}"));
    }
}

/// <summary>Healthy when the blob store answers an existence query.</summary>
internal sealed class BlobStoreHealthCheck(IBlobStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.ExistsAsync("health/probe", cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("blob store answers");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"blob store does not answer: {e.Message}");
        }
    }
}
