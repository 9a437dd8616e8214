using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AnomalyClustering.Silo.Health;

/// <summary>
/// Liveness (<c>/health/live</c>: the process answers, and its membership has not been lost for longer than
/// <see cref="MembershipHealthOptions.LostGrace"/>) and readiness (<c>/health/ready</c>: this silo reads the cluster
/// membership, is an active member and is listed in the table, and the blob store answers). Kubernetes restarts a pod that
/// is not live and sends no traffic to one not ready.
/// </summary>
public static class SiloHealthChecks
{
    private const string ReadyTag = "ready";
    private const string LiveTag = "live";

    /// <summary>Registers the readiness and liveness checks (<c>AnomalyClustering:Health</c> configures them).</summary>
    public static IServiceCollection AddAnomalyClusteringHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MembershipHealthOptions>(configuration.GetSection(MembershipHealthOptions.Section));
        services.AddSingleton<MembershipTableWatch>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHealthChecks()
            .AddCheck<SiloMembershipHealthCheck>("silo-membership", tags: [ReadyTag])
            .AddCheck<MembershipTableListingHealthCheck>("silo-in-membership-table", tags: [ReadyTag])
            .AddCheck<MembershipLostHealthCheck>("membership-not-lost", tags: [LiveTag])
            .AddCheck<BlobStoreHealthCheck>("blob-store", tags: [ReadyTag]);
        return services;
    }

    /// <summary>Maps <c>/health/live</c> (no checks) and <c>/health/ready</c> (the readiness checks).</summary>
    public static IEndpointRouteBuilder MapAnomalyClusteringHealthChecks(this IEndpointRouteBuilder endpoints)
    {
        // Kubernetes' probes carry no token; the answers say only healthy or not.
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous();
        return endpoints;
    }
}

/// <summary>
/// Healthy when this silo can read the cluster's membership table now and is Active in it. Reading the table, not only the
/// silo's cached snapshot, is the point: a silo cut off from Redis keeps its last snapshot (saying Active) for as long as
/// the outage lasts, while it can place no grain and answer no job correctly.
/// </summary>
internal sealed class SiloMembershipHealthCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    /// <summary>How long a read of the membership table may take before the silo counts as cut off from it.</summary>
    internal static readonly TimeSpan MembershipReadTimeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Exception? readFailure = null;
        try
        {
            // The default version asks for one read of the table, whatever version the snapshot has.
            await membership.Refresh(default, cancellationToken).AsTask().WaitAsync(MembershipReadTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            readFailure = e;
        }
        return Decide(silo.Name, membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress), readFailure);
    }

    /// <summary>
    /// The decision: unhealthy when the membership table could not be read (<paramref name="membershipReadFailure"/>), or
    /// when this silo's status in it is anything but Active (joining, shutting down, declared dead).
    /// </summary>
    internal static HealthCheckResult Decide(string siloName, SiloStatus status, Exception? membershipReadFailure) =>
        membershipReadFailure is not null
            ? HealthCheckResult.Unhealthy($"silo {siloName} cannot read the cluster membership ({membershipReadFailure.GetType().Name}); its view of the cluster is stale", membershipReadFailure)
            : status == SiloStatus.Active
                ? HealthCheckResult.Healthy($"silo {siloName} is active")
                : HealthCheckResult.Unhealthy($"silo {siloName} is {status}");
}

/// <summary>
/// Readiness: unhealthy when the membership table answers without this silo (or is unusable) while the silo thinks it is
/// active. A failed read is the other check's concern (<see cref="SiloMembershipHealthCheck"/>).
/// </summary>
internal sealed class MembershipTableListingHealthCheck(MembershipTableWatch watch) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (finding, detail) = await watch.ReadAsync(cancellationToken).ConfigureAwait(false);
        return finding == MembershipTableWatch.Finding.Lost
            ? HealthCheckResult.Unhealthy(detail)
            : HealthCheckResult.Healthy(detail);
    }
}

/// <summary>
/// Liveness: unhealthy once the membership table has answered without this active silo for longer than
/// <see cref="MembershipHealthOptions.LostGrace"/>, so that Kubernetes restarts the pod and the new process joins the
/// cluster again (Orleans does not put a running silo back into a table that lost it). An outage of Redis is not a loss:
/// it never fails this check.
/// </summary>
internal sealed class MembershipLostHealthCheck(MembershipTableWatch watch, IOptions<MembershipHealthOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (_, detail) = await watch.ReadAsync(cancellationToken).ConfigureAwait(false);
        var lostFor = watch.LostFor;
        return lostFor > options.Value.LostGrace
            ? HealthCheckResult.Unhealthy($"{detail}; lost for {lostFor.TotalSeconds:F0} s")
            : HealthCheckResult.Healthy(detail);
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
