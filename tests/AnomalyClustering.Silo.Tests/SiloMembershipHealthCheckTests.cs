using System.Collections.Immutable;
using System.Net;
using AnomalyClustering.Silo.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The membership readiness check: healthy only when the silo reads the membership table and is Active in it; a silo whose
/// table read fails (Redis away: its cached snapshot is stale) or hangs, or whose own status is not Active, is unhealthy.
/// </summary>
public sealed class SiloMembershipHealthCheckTests
{
    private static readonly SiloAddress Self = SiloAddress.New(IPAddress.Loopback, 11111, 1);

    [Theory]
    [InlineData(SiloStatus.Active, HealthStatus.Healthy)]
    [InlineData(SiloStatus.Joining, HealthStatus.Unhealthy)]
    [InlineData(SiloStatus.ShuttingDown, HealthStatus.Unhealthy)]
    [InlineData(SiloStatus.Dead, HealthStatus.Unhealthy)]
    [InlineData(SiloStatus.None, HealthStatus.Unhealthy)]
    public void TheSilosOwnStatusDecidesWhenTheTableIsRead(SiloStatus status, HealthStatus expected)
    {
        Assert.Equal(expected, SiloMembershipHealthCheck.Decide("silo-a", status, membershipReadFailure: null).Status);
    }

    [Fact]
    public void AFailedTableReadIsUnhealthyEvenWhenTheCachedSnapshotSaysActive()
    {
        var result = SiloMembershipHealthCheck.Decide("silo-a", SiloStatus.Active, new TimeoutException());
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("cannot read the cluster membership", result.Description);
    }

    [Fact]
    public async Task TheCheckReadsTheTableAndFailsWhenTheReadFailsOrHangs()
    {
        var reachable = new FakeMembership(SiloStatus.Active, refresh: () => ValueTask.CompletedTask);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(reachable)).Status);
        Assert.Equal(1, reachable.Refreshes);

        var failing = new FakeMembership(SiloStatus.Active, refresh: () => ValueTask.FromException(new InvalidOperationException("redis is away")));
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(failing)).Status);

        // A read that never ends counts as failed once the read timeout passes.
        var hanging = new FakeMembership(SiloStatus.Active, refresh: () => new ValueTask(new TaskCompletionSource().Task));
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(hanging)).Status);

        var leaving = new FakeMembership(SiloStatus.ShuttingDown, refresh: () => ValueTask.CompletedTask);
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(leaving)).Status);
    }

    private static Task<HealthCheckResult> CheckAsync(FakeMembership membership) =>
        new SiloMembershipHealthCheck(new FakeSilo(), membership).CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

    private sealed class FakeSilo : ILocalSiloDetails
    {
        public string Name => "silo-a";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => Self;

        public SiloAddress GatewayAddress => Self;
    }

    private sealed class FakeMembership(SiloStatus status, Func<ValueTask> refresh) : IClusterMembershipService
    {
        public int Refreshes { get; private set; }

        public ClusterMembershipSnapshot CurrentSnapshot { get; } = new(
            ImmutableDictionary<SiloAddress, ClusterMember>.Empty.Add(Self, new ClusterMember(Self, status, "silo-a")), new MembershipVersion(3));

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default)
        {
            Refreshes++;
            return refresh();
        }

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }
}
