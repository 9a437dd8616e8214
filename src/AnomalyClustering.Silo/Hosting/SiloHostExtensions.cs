using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Silo.Dashboard;
using AnomalyClustering.Silo.Lines;
using AnomalyClustering.ServiceDefaults;
using AnomalyClustering.Silo.Health;
using AnomalyClustering.Silo.Security;
using Microsoft.Extensions.Options;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Hosting;

/// <summary>Builds the host process: the Orleans silo with its roles, the blob store, OpenTelemetry, health checks, OpenAPI and the job API.</summary>
public static class SiloHostExtensions
{
    /// <summary>
    /// Adds the silo (clustering, roles and grains from configuration), the configured blob store, health checks and the
    /// OpenAPI document. Returns the hosting options so that endpoints can be mapped by role.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is missing or invalid; the message names it.</exception>
    /// <exception cref="ServerSettingException">A coordinator setting is out of range (<see cref="CoordinatorOptions.Validate"/>).</exception>
    /// <exception cref="StoreFolderInUseException">One node over a local folder that another server or CLI runs hold.</exception>
    /// <exception cref="StoreFolderLockException">One node over a local folder whose lock cannot be written.</exception>
    /// <exception cref="StoreFolderUnusableException">A local store folder that cannot be used at all (a file, not writable).</exception>
    public static async Task<ClusterHostingOptions> AddAnomalyClusteringSiloAsync(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var hosting = ClusterHostingOptions.Read(builder.Configuration);
        // Checked here, before anything starts, so that a bad value is one line at start rather than a fault once it is used.
        (builder.Configuration.GetSection(CoordinatorOptions.Section).Get<CoordinatorOptions>() ?? new CoordinatorOptions()).Validate();
        var store = await BlobStoreConfiguration.OpenAsync(builder.Configuration).ConfigureAwait(false);
        if (hosting.Clustering == ClusteringKind.Localhost && store is LocalDirectoryBlobStore local)
        {
            // One node over a local folder: the jobs' state beside the blobs, or a restart would forget every job the folder
            // still holds (GET /jobs listed none of them).
            hosting = hosting with { JobStateFolder = ClusterHostingOptions.StateFolderOf(local.RootFolder) };
            // And the folder to itself: a second server (or CLI runs) on it would resume the same jobs and write the same
            // state files. Held until the host stops (registered before the silo, so it is released after the silo stopped),
            // and by the system until the process ends, however it ends.
            var folderLock = StoreFolderLock.TakeExclusive(local.RootFolder);
            builder.Services.AddHostedService(services =>
                new StoreFolderLockRelease(folderLock, services.GetRequiredService<ILogger<StoreFolderLockRelease>>()));
        }
        builder.Services.AddSingleton(store);
        builder.AddServiceDefaults();
        builder.UseOrleans(silo => silo.AddAnomalyClustering(hosting, builder.Configuration).AddOperatorDashboard(builder.Configuration));
        builder.Services.AddAnomalyClusteringHealthChecks(builder.Configuration);
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();
        builder.Services.AddJobApi(builder.Configuration);
        builder.Services.AddLineApi();
        if (hosting.Roles.Contains(SiloRoles.Coordinator))
        {
            builder.Services.AddApiSecurity(builder.Configuration);
        }
        // SIGTERM gives the silo time to leave the cluster and hand its grains over (Kubernetes waits terminationGracePeriodSeconds).
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(45));
        return hosting;
    }

    /// <summary>
    /// Maps health endpoints on every silo, and on coordinator silos the job API and OpenAPI document behind authentication
    /// (see <see cref="ApiSecurityExtensions"/>).
    /// </summary>
    public static WebApplication MapAnomalyClusteringEndpoints(this WebApplication app, ClusterHostingOptions hosting)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(hosting);
        // Unhandled errors and empty-bodied statuses (e.g. a route value of the wrong type) answer as ProblemDetails too.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // First: the metrics port answers /metrics and nothing else, before authentication is asked for.
        app.MapServiceDefaultEndpoints();
        if (hosting.Roles.Contains(SiloRoles.Coordinator))
        {
            // Every route of this silo, the job API's and any added later, goes through it.
            app.UseApiSecurity(app.Services.GetRequiredService<IOptions<JobApiOptions>>().Value.PublicOrigin());
        }
        app.MapAnomalyClusteringHealthChecks();
        if (hosting.Roles.Contains(SiloRoles.Coordinator))
        {
            app.MapOpenApi();
            app.MapJobApi();
            app.MapLineApi();
            app.MapOperatorDashboard(app.Configuration);
        }
        return app;
    }
}
