using Orleans.Runtime;

namespace AnomalyClustering.Silo.Health;

/// <summary>
/// Reads the cluster's membership table itself (not the silo's cached view) and says whether this silo is in it. A table
/// that answers without this silo means the table was lost under a running cluster (Redis restarted without its data):
/// Orleans does not write a running silo back into it, so the silo stays cut off from every silo that joins later until it
/// restarts. <see cref="LostFor"/> lets the liveness probe ask for that restart once the loss has lasted
/// <see cref="MembershipHealthOptions.LostGrace"/>.
/// </summary>
internal sealed class MembershipTableWatch(ILocalSiloDetails silo, IMembershipTable table, IClusterMembershipService membership, TimeProvider time)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _lostSince;

    /// <summary>What one read of the table found.</summary>
    public enum Finding
    {
        /// <summary>The table lists this silo.</summary>
        Listed,

        /// <summary>The table could not be read (Redis away, timeout): an outage, the table may be intact.</summary>
        Unreadable,

        /// <summary>The table answers without this silo, or without its version row, while the silo believes it is active: lost.</summary>
        Lost,

        /// <summary>The table answers without this silo, which is not active yet (joining) or any more (leaving).</summary>
        NotActive,
    }

    /// <summary>Reads the table once (at most <see cref="SiloMembershipHealthCheck.MembershipReadTimeout"/>) and records a loss.</summary>
    public async Task<(Finding Finding, string Detail)> ReadAsync(CancellationToken cancellationToken)
    {
        (Finding, string) reading;
        try
        {
            var data = await table.ReadAllAsync(cancellationToken).WaitAsync(SiloMembershipHealthCheck.MembershipReadTimeout, cancellationToken).ConfigureAwait(false);
            reading = data.Members.Any(member => member.Item1.SiloAddress.Equals(silo.SiloAddress))
                ? (Finding.Listed, $"silo {silo.Name} is in the membership table")
                : (Finding.Lost, $"the membership table answers without silo {silo.Name} (its data was lost, e.g. Redis restarted empty); the silo must restart to rejoin");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The Redis table throws its own exception when its version row is gone (the key lost); connection errors and
            // timeouts are an outage that the table survives.
            reading = IsOutage(e)
                ? (Finding.Unreadable, $"silo {silo.Name} cannot read the membership table ({e.GetType().Name})")
                : (Finding.Lost, $"the membership table is unusable ({e.GetType().Name}: its data was lost, e.g. Redis restarted empty); the silo must restart to rejoin");
        }
        // A silo that has not joined yet is not in the table either: only an active silo's absence is a loss.
        var active = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Active;
        if (reading.Item1 == Finding.Lost && !active)
        {
            reading = (Finding.NotActive, $"silo {silo.Name} is not active in the cluster");
        }
        lock (_gate)
        {
            _lostSince = reading.Item1 == Finding.Lost ? _lostSince ?? time.GetUtcNow() : null;
        }
        return reading;
    }

    /// <summary>How long the reads have found the table lost without a break (zero when the last read did not).</summary>
    public TimeSpan LostFor
    {
        get
        {
            lock (_gate)
            {
                return _lostSince is { } since ? time.GetUtcNow() - since : TimeSpan.Zero;
            }
        }
    }

    private static bool IsOutage(Exception e) =>
        e is TimeoutException or StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException
            or System.Net.Sockets.SocketException or OperationCanceledException
        || (e.InnerException is { } inner && IsOutage(inner));
}

/// <summary>Settings of the membership health checks (<c>AnomalyClustering:Health</c>).</summary>
public sealed class MembershipHealthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Health";

    /// <summary>
    /// How long the membership table may answer without this active silo before <c>/health/live</c> fails (and Kubernetes
    /// restarts the pod, which rejoins the cluster): long enough that a read during a join or a leave never counts.
    /// </summary>
    public TimeSpan LostGrace { get; set; } = TimeSpan.FromSeconds(60);
}
