using AnomalyClustering.Abstractions.Placement;
using Microsoft.Extensions.Configuration;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>How a silo joins its cluster and what it stores where (configuration section <c>AnomalyClustering</c>).</summary>
public sealed record ClusterHostingOptions
{
    /// <summary>Membership and grain state: one silo on localhost with in-memory state, or Redis.</summary>
    public ClusteringKind Clustering { get; init; } = ClusteringKind.Localhost;

    /// <summary>The roles of this silo (<see cref="SiloRoles"/>); both by default (embedded mode).</summary>
    public IReadOnlyList<string> Roles { get; init; } = SiloRoles.All;

    /// <summary>The StackExchange.Redis connection string (<c>ConnectionStrings:Redis</c>) for <see cref="ClusteringKind.Redis"/>.</summary>
    public string? RedisConnectionString { get; init; }

    /// <summary>
    /// With <see cref="ClusteringKind.Localhost"/>: the folder whose files keep the jobs' grain state (coordinators, shards,
    /// the job registry, lines' logs: <see cref="AtomicFileGrainStorage"/>) and its reminders (<see cref="FileReminderTable"/>),
    /// so that a restarted silo lists and resumes the jobs it had; null keeps both in memory. A server over a local-folder store sets it beside the blobs
    /// (<see cref="StateFolderOf"/>), which outlive the process anyway.
    /// </summary>
    public string? JobStateFolder { get; init; }

    /// <summary>The job-state folder of a one-silo server whose local store is in <paramref name="storeRoot"/>.</summary>
    public static string StateFolderOf(string storeRoot) => Path.Combine(Path.GetFullPath(storeRoot), "silo-state");

    /// <summary>The folder of a one-silo server's reminders (<see cref="FileReminderTable"/>) in its job-state folder <paramref name="stateFolder"/>.</summary>
    public static string RemindersFolderOf(string stateFolder) => Path.Combine(stateFolder, "reminders");

    /// <summary>Reads the options.</summary>
    /// <exception cref="InvalidOperationException">An unknown role or clustering kind, or Redis clustering without a connection string; the message names the setting.</exception>
    public static ClusterHostingOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var rolesText = configuration["AnomalyClustering:Roles"];
        var roles = string.IsNullOrWhiteSpace(rolesText)
            ? SiloRoles.All
            : rolesText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => r.ToLowerInvariant()).Distinct().ToArray();
        foreach (var role in roles)
        {
            if (!SiloRoles.All.Contains(role))
            {
                throw new InvalidOperationException($"AnomalyClustering:Roles has unknown role '{role}'; use a comma list of {string.Join(", ", SiloRoles.All)}.");
            }
        }
        var clusteringText = configuration["AnomalyClustering:Clustering"];
        var clustering = string.IsNullOrWhiteSpace(clusteringText) ? ClusteringKind.Localhost
            : Enum.TryParse<ClusteringKind>(clusteringText, ignoreCase: true, out var parsed) ? parsed
            : throw new InvalidOperationException($"AnomalyClustering:Clustering is '{clusteringText}'; use Localhost or Redis.");
        var redis = configuration.GetConnectionString("Redis");
        if (clustering == ClusteringKind.Redis && string.IsNullOrWhiteSpace(redis))
        {
            throw new InvalidOperationException("AnomalyClustering:Clustering is Redis but ConnectionStrings:Redis is not set.");
        }
        return new ClusterHostingOptions { Clustering = clustering, Roles = roles, RedisConnectionString = redis };
    }
}

/// <summary>How silos find each other and keep state.</summary>
public enum ClusteringKind
{
    /// <summary>One silo on loopback, state and reminders in memory or in files (<see cref="ClusterHostingOptions.JobStateFolder"/>) (embedded mode, development, one node).</summary>
    Localhost,

    /// <summary>Redis for membership, grain state and reminders (a cluster).</summary>
    Redis,
}
