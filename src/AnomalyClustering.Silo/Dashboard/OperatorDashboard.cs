using AnomalyClustering.Silo.Security;
using Orleans.Dashboard;

namespace AnomalyClustering.Silo.Dashboard;

/// <summary>
/// The Orleans dashboard (Microsoft.Orleans.Dashboard: silos, grain activations, call rates and latencies, reminders) for
/// operators. Off by default: it is a preview feature of Orleans, it profiles every grain call, and it shows grain state
/// (job ids, tenants, image paths). Switched on (<c>AnomalyClustering:Dashboard:Enabled</c>) it is collected on every silo
/// that has the setting and served by coordinator silos at <see cref="OperatorDashboardOptions.Path"/>, to
/// <see cref="ApiPermissions.Admin"/> only, behind the API's own authentication.
/// </summary>
public static class OperatorDashboard
{
    /// <summary>Adds the dashboard's grains and call profiling to the silo when the setting says so.</summary>
    public static ISiloBuilder AddOperatorDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (OperatorDashboardOptions.Read(configuration).Enabled)
        {
            // The live log view stays off: logs hold incident details (storage endpoints, exception text) that belong in
            // the log pipeline, not in a page.
            silo.AddDashboard(options => options.HideTrace = true);
        }
        return silo;
    }

    /// <summary>Maps the dashboard's page and API on a coordinator silo, for <see cref="ApiPermissions.Admin"/>, when switched on.</summary>
    public static IEndpointRouteBuilder MapOperatorDashboard(this IEndpointRouteBuilder endpoints, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = OperatorDashboardOptions.Read(configuration);
        if (options.Enabled)
        {
            endpoints.MapOrleansDashboard(options.Path).RequireAuthorization(ApiPermissions.Admin);
        }
        return endpoints;
    }
}

/// <summary>Settings of the operators' dashboard (<c>AnomalyClustering:Dashboard</c>).</summary>
public sealed class OperatorDashboardOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Dashboard";

    /// <summary>Collect and serve the dashboard. Set it on every silo of the cluster (each collects its own figures).</summary>
    public bool Enabled { get; set; }

    /// <summary>Where coordinator silos serve it.</summary>
    public string Path { get; set; } = "/dashboard";

    /// <summary>The settings in <paramref name="configuration"/>.</summary>
    /// <exception cref="InvalidOperationException">The path does not start with '/'; the message names the setting.</exception>
    public static OperatorDashboardOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(Section).Get<OperatorDashboardOptions>() ?? new OperatorDashboardOptions();
        if (!options.Path.StartsWith('/') || options.Path.Length < 2)
        {
            throw new InvalidOperationException($"{Section}:Path is '{options.Path}'; give a path below the root, e.g. /dashboard.");
        }
        return options;
    }
}
