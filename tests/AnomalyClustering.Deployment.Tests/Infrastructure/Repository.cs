using AnomalyClustering.Testing;

namespace AnomalyClustering.Deployment.Tests.Infrastructure;

/// <summary>Paths of the deployment files inside the repository the tests run from.</summary>
internal static class Repository
{
    /// <summary>The repository root.</summary>
    public static string Root => TestPaths.RepositoryRoot;

    /// <summary>An absolute path from a repository-relative one written with forward slashes.</summary>
    public static string PathOf(string relative) => Path.Combine([Root, .. relative.Split('/')]);

    /// <summary>The text of a repository file; fails with the path when it is missing.</summary>
    public static string ReadText(string relative)
    {
        var path = PathOf(relative);
        Assert.True(File.Exists(path), $"{relative} is missing from the repository.");
        return File.ReadAllText(path);
    }

    /// <summary>The Helm chart folder.</summary>
    public static string Chart => PathOf("helm/anomaly-clustering");

    /// <summary>The Grafana dashboard: one copy, inside the chart (the chart loads it with .Files.Get).</summary>
    public const string DashboardPath = "helm/anomaly-clustering/dashboards/anomaly-clustering.json";

    /// <summary>The Prometheus metric names the silos emit and the dashboard may query, one per line.</summary>
    public const string TelemetryMetricsPath = "docs/telemetry-metrics.txt";
}
