using AnomalyClustering.Grains.Telemetry;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Records a stored decision in the line instruments of <see cref="AnomalyClusteringTelemetry"/>. The defective and novel
/// counters also get 0 for the other images, so that a line's series exist from its first decision and the dashboard's
/// rates (defective over images) are defined before the first defect.
/// </summary>
public static class LineDecisionMetrics
{
    /// <summary>Records <paramref name="decision"/> of the line under <paramref name="prefix"/> (<c>lines/{tenant}/{name}/</c>), which arrived at <paramref name="receivedAt"/>.</summary>
    public static void Record(string prefix, LineDecision decision, DateTimeOffset receivedAt, DateTimeOffset storedAt)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(decision);
        var segments = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var line = new KeyValuePair<string, object?>("line", segments.Length > 2 ? segments[2] : prefix);
        var tenant = new KeyValuePair<string, object?>("tenant", segments.Length > 1 ? segments[1] : "_");
        AnomalyClusteringTelemetry.LineImages.Add(1, line, tenant, new("outcome", decision.Outcome));
        AnomalyClusteringTelemetry.LineDefective.Add(decision.Defective == true ? 1 : 0, line, tenant);
        AnomalyClusteringTelemetry.LineNovel.Add(decision.Outcome == LineDecision.Novel ? 1 : 0, line, tenant);
        if (decision.Outcome is "assigned" or "ambiguous")
        {
            AnomalyClusteringTelemetry.LineAssignments.Add(1, line, tenant, new("type", decision.Decision));
        }
        AnomalyClusteringTelemetry.LineDecisionDuration.Record(Math.Max(0, (storedAt - receivedAt).TotalSeconds), line, tenant);
    }
}
