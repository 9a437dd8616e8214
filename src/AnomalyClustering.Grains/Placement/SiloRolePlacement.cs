using AnomalyClustering.Abstractions.Placement;
using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace AnomalyClustering.Grains.Placement;

/// <summary>
/// Places a grain type only on silos that hold <paramref name="role"/> (silo metadata written by
/// <see cref="Hosting.AnomalyClusteringSiloExtensions.AddAnomalyClusteringGrains"/>). Orleans' own RequiredMatchSiloMetadata filter keeps silos whose value
/// equals the <em>calling</em> silo's, which would place image grains on the coordinator's kind of silo; this one
/// asks for a fixed role whatever the caller is.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RequiredSiloRoleAttribute(string role) : PlacementFilterAttribute(new SiloRolePlacementFilterStrategy(role));

/// <summary>The filter strategy behind <see cref="RequiredSiloRoleAttribute"/>: carries the role in the grain type's properties.</summary>
public sealed class SiloRolePlacementFilterStrategy : PlacementFilterStrategy
{
    private const string RoleProperty = "role";

    /// <summary>The empty strategy Orleans creates before <see cref="PlacementFilterStrategy.Initialize"/> reads the grain's properties.</summary>
    public SiloRolePlacementFilterStrategy() : this(string.Empty)
    {
    }

    /// <summary>A strategy for <paramref name="role"/>.</summary>
    public SiloRolePlacementFilterStrategy(string role) : base(order: 0) => Role = role;

    /// <summary>The role a silo must hold.</summary>
    public string Role { get; private set; }

    /// <inheritdoc />
    public override void AdditionalInitialize(GrainProperties properties) =>
        Role = GetPlacementFilterGrainProperty(RoleProperty, properties) ?? string.Empty;

    /// <inheritdoc />
    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new KeyValuePair<string, string>(RoleProperty, Role);
    }
}

/// <summary>Keeps the candidate silos whose metadata says they hold the strategy's role. O(silos).</summary>
internal sealed class SiloRolePlacementFilterDirector(ISiloMetadataCache siloMetadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var role = (filterStrategy as SiloRolePlacementFilterStrategy)?.Role;
        if (string.IsNullOrEmpty(role))
        {
            return silos;
        }
        var key = SiloRoles.MetadataKey(role);
        var matching = silos.Where(silo => siloMetadata.GetSiloMetadata(silo).Metadata.GetValueOrDefault(key) == SiloRoles.MetadataValue).ToList();
        if (matching.Count == 0)
        {
            // Orleans would otherwise fail with a generic "no compatible silo"; say which role is missing.
            throw new OrleansException($"no active silo holds the '{role}' role needed by grain type {target.GrainIdentity.Type}; start a silo with AnomalyClustering__Roles containing '{role}'.");
        }
        return matching;
    }
}
