namespace AnomalyClustering.Abstractions.Placement;

/// <summary>
/// The roles a silo can hold, published as silo metadata so that placement can route work by role.
/// One silo may hold both (embedded mode); in a cluster, coordinators run on CPU nodes and workers on GPU nodes.
/// </summary>
public static class SiloRoles
{
    /// <summary>Hosts job coordinators and the HTTP API.</summary>
    public const string Coordinator = "coordinator";

    /// <summary>Hosts image grains: decoding, backbone inference and patch scoring.</summary>
    public const string GpuWorker = "gpu-worker";

    /// <summary>Every role, in the order they are documented.</summary>
    public static IReadOnlyList<string> All { get; } = [Coordinator, GpuWorker];

    /// <summary>
    /// The silo-metadata key that says a silo holds <paramref name="role"/> (value <see cref="MetadataValue"/>).
    /// One key per role, because a silo may hold several and metadata values are single strings.
    /// </summary>
    public static string MetadataKey(string role) => $"anomaly-clustering.role.{role}";

    /// <summary>The metadata value of a role the silo holds.</summary>
    public const string MetadataValue = "true";
}
