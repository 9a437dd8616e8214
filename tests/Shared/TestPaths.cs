namespace AnomalyClustering.Testing;

/// <summary>Where tests find their committed fixtures and the optional ../shared material.</summary>
internal static class TestPaths
{
    /// <summary>The fixtures folder copied next to the test assembly.</summary>
    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>Path of one fixture file, e.g. <c>Fixture("linkage", "ward_n10.json")</c>.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    /// <summary>The repository root (the folder holding AnomalyClustering.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "AnomalyClustering.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("AnomalyClustering.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// The metric names the Grafana dashboard may query (docs/telemetry-metrics.txt, one per line, '#' comments): what the
    /// telemetry tests check a real job emits and the dashboard test checks the panels use.
    /// </summary>
    public static IReadOnlyList<string> DashboardMetricNames() =>
        File.ReadAllLines(Path.Combine(RepositoryRoot, "docs", "telemetry-metrics.txt"))
            .Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();

    /// <summary>
    /// The shared data and models folder: ANOMALY_CLUSTERING_SHARED, else ../shared beside the repository.
    /// Null when absent (a user's fresh clone has none); tests that need it skip.
    /// </summary>
    public static string? Shared
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("ANOMALY_CLUSTERING_SHARED");
            var candidate = string.IsNullOrEmpty(fromEnvironment)
                ? Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"))
                : fromEnvironment;
            return Directory.Exists(candidate) ? candidate : null;
        }
    }

    /// <summary>A path inside ../shared, or a skip with the reason when the folder or file is absent.</summary>
    public static string RequireShared(params string[] parts)
    {
        var shared = Shared;
        if (shared is null)
        {
            Assert.Skip("../shared is absent (set ANOMALY_CLUSTERING_SHARED); this test needs its real data or models.");
        }
        var path = Path.Combine([shared, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            Assert.Skip($"{path} is absent; this test needs it.");
        }
        return path;
    }
}
