using AnomalyClustering.Testing;
using System.Text.Json;
using System.Text.RegularExpressions;
using AnomalyClustering.Deployment.Tests.Infrastructure;

namespace AnomalyClustering.Deployment.Tests.Dashboard;

/// <summary>
/// The Grafana dashboard (one copy, in the Helm chart): valid JSON on a Prometheus datasource variable, querying only the
/// metric names listed in docs/telemetry-metrics.txt (which the silo's telemetry tests assert are emitted) or a few that
/// the cluster itself provides (cAdvisor, NVIDIA DCGM), and showing every listed one.
/// </summary>
public sealed class DashboardTests
{
    /// <summary>Metrics the cluster provides rather than the silos: kubelet's cAdvisor and NVIDIA's DCGM exporter.</summary>
    private static readonly HashSet<string> ClusterMetrics = new(StringComparer.Ordinal)
    {
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "DCGM_FI_DEV_GPU_UTIL",
    };

    /// <summary>The series a Prometheus histogram exposes beside its base name.</summary>
    private static readonly string[] HistogramSuffixes = ["_bucket", "_sum", "_count"];

    private static JsonElement Dashboard => JsonDocument.Parse(Repository.ReadText(Repository.DashboardPath)).RootElement;

    private static IReadOnlyList<string> ListedMetrics => TestPaths.DashboardMetricNames();

    /// <summary>Every panel, rows' nested panels included.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels))
        {
            yield break;
        }
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Panels(panel))
            {
                yield return nested;
            }
        }
    }

    /// <summary>The repository's JSON files, without build outputs, installed packages and git metadata.</summary>
    private static IEnumerable<string> JsonFiles(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*.json"))
        {
            yield return file;
        }
        foreach (var child in Directory.EnumerateDirectories(folder))
        {
            if (Path.GetFileName(child) is not ("bin" or "obj" or "node_modules" or ".git"))
            {
                foreach (var file in JsonFiles(child))
                {
                    yield return file;
                }
            }
        }
    }

    private static IReadOnlyList<string> Expressions =>
        Panels(Dashboard).Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!).ToList();

    [Fact]
    public void Metric_name_extraction_reads_metrics_and_skips_functions_labels_and_ranges()
    {
        Assert.Equal(["foo_bucket"], PromQlMetricNames.Of(
            "histogram_quantile(0.95, sum by (le, stage) (rate(foo_bucket{stage=~\"embed|decode\", job!=\"x\"}[$__rate_interval])))"));
        Assert.Equal(new[] { "a_total", "b_total" }, PromQlMetricNames.Of(
            "sum(rate(a_total[5m])) / on (instance) group_left sum without (reason) (rate(b_total{reason=\"x y\"}[5m])) * 60").Order());
        Assert.Equal(["up"], PromQlMetricNames.Of("avg_over_time(up[1h:5m]) > bool 1e3"));
    }

    [Fact]
    public void Dashboard_is_a_grafana_dashboard_on_a_prometheus_datasource_variable()
    {
        var dashboard = Dashboard;
        Assert.Equal("anomaly-clustering", dashboard.GetProperty("uid").GetString());
        Assert.False(string.IsNullOrWhiteSpace(dashboard.GetProperty("title").GetString()));
        Assert.True(dashboard.GetProperty("schemaVersion").GetInt32() >= 30);

        var variable = Assert.Single(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", variable.GetProperty("query").GetString());
        var datasourceReference = "${" + variable.GetProperty("name").GetString() + "}";

        var panels = Panels(dashboard).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var queryPanels = panels.Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.True(queryPanels.Count >= 15);
        foreach (var panel in queryPanels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal(datasourceReference, panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel '{title}' has no query.");
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), $"panel '{title}' has an empty query."));
            var grid = panel.GetProperty("gridPos");
            Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
        }
    }

    [Fact]
    public void Every_queried_metric_is_listed_in_telemetry_metrics_or_comes_from_the_cluster()
    {
        var listed = ListedMetrics.ToHashSet(StringComparer.Ordinal);
        var queried = Expressions.SelectMany(PromQlMetricNames.Of).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(queried);
        foreach (var metric in queried)
        {
            var known = listed.Contains(metric) || ClusterMetrics.Contains(metric)
                        || HistogramSuffixes.Any(s => metric.EndsWith(s, StringComparison.Ordinal) && listed.Contains(metric[..^s.Length]));
            Assert.True(known, $"the dashboard queries {metric}, which is neither in {Repository.TelemetryMetricsPath} nor a cluster metric.");
        }
    }

    [Fact]
    public void Every_listed_metric_is_a_valid_prometheus_name_shown_on_the_dashboard()
    {
        var listed = ListedMetrics;
        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
        var queried = Expressions.SelectMany(PromQlMetricNames.Of).ToHashSet(StringComparer.Ordinal);
        foreach (var metric in listed)
        {
            Assert.Matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", metric);
            Assert.True(queried.Contains(metric) || HistogramSuffixes.Any(s => queried.Contains(metric + s)),
                $"{Repository.TelemetryMetricsPath} lists {metric}, but no dashboard panel queries it.");
        }
        // Each of the silo's own instruments is in the list: 13 of jobs and silos (OPS_CONTRACT), 1 of patch scoring (its kernel), 5 of production lines.
        Assert.Equal(19, listed.Count(m => m.StartsWith("anomaly_clustering_", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dashboard_shows_what_operators_watch()
    {
        var expressions = Expressions.Select(e => Regex.Replace(e, @"\s+", " ")).ToList();
        void Shows(string why, string pattern) =>
            Assert.True(expressions.Any(e => Regex.IsMatch(e, pattern)), $"no panel shows {why} (expected a query matching {pattern}).");

        Shows("stage latency quantiles by stage", @"histogram_quantile\(0\.95, sum by \(le, stage\) \(rate\(anomaly_clustering_stage_duration_seconds_bucket");
        Shows("failures by reason", @"sum by \(reason\) \(rate\(anomaly_clustering_images_failed_total");
        Shows("the feature cache hit ratio", @"anomaly_clustering_feature_cache_hits_total.*/.*anomaly_clustering_feature_cache_misses_total");
        Shows("job progress by stage", @"sum by \(stage\) \(rate\(anomaly_clustering_job_images_done_total");
        Shows("activations per silo", @"sum by \(instance\) \(orleans_catalog_activations\)");
        Shows("work in flight per silo", @"sum by \(silo\) \(anomaly_clustering_work_in_flight\)");
        Shows("CPU per silo", @"rate\(dotnet_process_cpu_time_seconds_total");
        Shows("memory per silo", @"dotnet_process_memory_working_set_bytes");
        Shows("images decided per line", @"sum by \(line, outcome\) \(rate\(anomaly_clustering_line_images_total");
        Shows("the defective rate per line", @"anomaly_clustering_line_defective_total.*/.*anomaly_clustering_line_images_total");
        Shows("assignments per defect type", @"sum by \(line, type\) \(rate\(anomaly_clustering_line_assignments_total");
        Shows("novel images per line", @"sum by \(line\) \(rate\(anomaly_clustering_line_novel_total");
        Shows("decision latency quantiles per line", @"histogram_quantile\(0\.99, sum by \(le, line\) \(rate\(anomaly_clustering_line_decision_duration_seconds_bucket");
    }

    [Fact]
    public void The_chart_holds_the_only_copy_of_the_dashboard()
    {
        var copies = JsonFiles(Repository.Root)
            .Where(f => File.ReadAllText(f).Contains("\"uid\": \"anomaly-clustering\"", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Repository.Root, f).Replace('\\', '/'))
            .ToList();
        Assert.Equal([Repository.DashboardPath], copies);
        Assert.Contains(Repository.DashboardPath, Repository.ReadText("README.md"), StringComparison.Ordinal);
    }
}
