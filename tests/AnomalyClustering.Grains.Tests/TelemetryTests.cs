using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Telemetry;
using AnomalyClustering.ServiceDefaults;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Runs jobs on the 3-silo cluster with the product's OpenTelemetry configuration (ServiceDefaults) and in-memory
/// exporters: every stage has spans carrying the job id, in one trace across silos, and every metric the Grafana
/// dashboard queries (docs/telemetry-metrics.txt) is emitted.
/// </summary>
public sealed partial class TelemetryTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    [Fact]
    public async Task StagesHaveSpansWithTheJobIdAndEveryDashboardMetricIsEmitted()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddServiceDefaults();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        builder.Services.ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics));
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 81);
        await fixture.Store.PutAsync("datasets/telemetry/broken.png", new MemoryStream([0x89, 0x50, 0x4E, 0x47]), cancellationToken: TestContext.Current.CancellationToken);
        var spec = data.Job(new JobOptions { Mode = "semi-supervised" }) with
        {
            Images = [.. data.Images, new JobImage("broken.png", "datasets/telemetry/broken.png", data.Images[0].Label)],
        };
        var first = await JobRuns.RunAsync(fixture.Cluster.Client, fixture.Store, "telemetry-first", spec);
        Assert.Equal(JobState.Completed, first.State);
        // A second job over the same images reads the feature cache: the hit counters must move too.
        var second = await JobRuns.RunAsync(fixture.Cluster.Client, fixture.Store, "telemetry-second", spec);
        Assert.True(second.CacheHits > 0);

        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        // Copied now: a line's image spans carry its source job's id too, in a trace of their own.
        var jobSpans = spans.Where(span => Equals(span.GetTagItem(AnomalyClusteringTelemetry.JobIdTag), "telemetry-first")).ToList();
        // A production line made from the first job decides one of its images: the line instruments move too.
        var decided = await DecideOnALineAsync(first, data.Images[1]);
        Assert.Null(decided.Error);
        host.Services.GetRequiredService<MeterProvider>().ForceFlush();

        foreach (var stage in new[] { "job", "image.embed", "decode", "embed", "image.process", "score", "cluster" })
        {
            Assert.Contains(jobSpans, span => span.OperationName == stage);
        }
        // One trace: the image grains' spans on the worker silos are children of the coordinator's job span.
        var trace = jobSpans.Single(span => span.OperationName == "job").TraceId;
        Assert.All(jobSpans, span => Assert.Equal(trace, span.TraceId));
        Assert.Contains(jobSpans, span => span.OperationName == "decode" && span.Status == ActivityStatusCode.Error);

        var emitted = metrics.Select(PrometheusName).ToHashSet(StringComparer.Ordinal);
        var queried = TestPaths.DashboardMetricNames();
        Assert.NotEmpty(queried);
        var missing = queried.Where(name => !emitted.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"not emitted: {string.Join(", ", missing)}; emitted: {string.Join(", ", emitted.Order())}");
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Makes a line's catalog from <paramref name="job"/>, as <c>POST /lines</c> does, and decides <paramref name="image"/> with it.</summary>
    private async Task<LineImageResult> DecideOnALineAsync(JobStatus job, JobImage image)
    {
        var catalog = await JobLines.CatalogOfAsync(fixture, job, "telemetry");
        var decider = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<LineImageDecider>();
        var answer = await decider.DecideAsync("lines/_/telemetry/", catalog, [new LineImageDecider.StoredImage("telemetry-image", image.Id, image.BlobName)],
            logFailures: false, TestContext.Current.CancellationToken);
        return Assert.Single(answer);
    }

    /// <summary>
    /// The name Prometheus gives an OpenTelemetry metric (the OpenTelemetry-to-Prometheus convention the exporter follows):
    /// invalid characters to '_', the unit as a suffix (s: seconds, By: bytes; annotations in braces dropped), and
    /// <c>_total</c> on monotonic sums. Histograms keep their base name (their series add _bucket, _sum, _count).
    /// </summary>
    private static string PrometheusName(Metric metric)
    {
        var name = InvalidCharacters().Replace(metric.Name, "_");
        var unit = metric.Unit switch
        {
            "s" => "seconds",
            "By" => "bytes",
            _ => null,
        };
        if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name += "_" + unit;
        }
        if (metric.MetricType is MetricType.LongSum or MetricType.DoubleSum)
        {
            name += "_total";
        }
        return name;
    }

    [GeneratedRegex("[^a-zA-Z0-9_:]")]
    private static partial Regex InvalidCharacters();
}
