namespace AnomalyClustering.Abstractions.Telemetry;

/// <summary>
/// The name of the product's activity source and meter: here, so that the telemetry set-up of every process
/// (ServiceDefaults) can subscribe without depending on the grains that emit.
/// </summary>
public static class TelemetryNames
{
    /// <summary>The activity source and meter name.</summary>
    public const string Source = "AnomalyClustering";
}
