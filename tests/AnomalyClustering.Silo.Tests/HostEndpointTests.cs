using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>What operators scrape and probe on every silo: health endpoints and the Prometheus endpoint when it is switched on.</summary>
public sealed class HostEndpointTests(SiloServer server)
{
    [Fact]
    public async Task HealthEndpointsAnswerAndPrometheusSeesTheProductsMetricsAfterAJob()
    {
        // Kubernetes' probes carry no token.
        using var probe = server.AnonymousClient();
        var live = await probe.GetAsync("/health/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await probe.GetStringAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal("Healthy", ready);

        // One broken image (the failure counters) and the same upload twice (the feature-cache hit counters).
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        folder.Write([.. "this is not a picture"u8], "hole", "broken.png");
        string? jobId = null;
        for (var run = 0; run < 2; run++)
        {
            using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
            using var response = await server.Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
            var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
            Assert.Equal(JobState.Completed, (await server.WaitAsync(accepted.JobId)).State);
            jobId = accepted.JobId;
        }
        // A line made from the job decides the job's own images (the line metrics): some are assigned to a type.
        var line = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        await LineApiTests.CreateAsync(server.Client, line, jobId!);
        var images = Directory.GetFiles(folder.Path, "*.png", SearchOption.AllDirectories).Where(path => !path.EndsWith("broken.png", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Take(32).ToList();
        var decided = await LineApiTests.PostImagesAsync(server.Client, line, images);
        Assert.Contains(decided.Images, image => image.Decision?.Outcome == "assigned");

        // The metrics port serves /metrics without a token and nothing else; the API port does not serve it.
        using var anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}") };
        using var metrics = await anonymous.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        using var jobsOnMetricsPort = await anonymous.GetAsync("/jobs", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, jobsOnMetricsPort.StatusCode);
        using var metricsOnApiPort = await server.Client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, metricsOnApiPort.StatusCode);
        var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // What the Grafana dashboard queries, as Prometheus itself would scrape it (names made by the real exporter).
        var queried = TestPaths.DashboardMetricNames();
        Assert.NotEmpty(queried);
        var missing = queried.Where(name => !text.Contains(name + " ", StringComparison.Ordinal) && !text.Contains(name + "{", StringComparison.Ordinal)
            && !text.Contains(name + "_bucket{", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"not scraped: {string.Join(", ", missing)}");

        // No label names a peer (the storage account's blob endpoint, here the test's own HttpClient calls to the API).
        var httpClientLines = text.Split('\n').Where(line => line.StartsWith("http_client_", StringComparison.Ordinal) || line.StartsWith("dns_lookup_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(httpClientLines);
        Assert.All(httpClientLines, line =>
        {
            Assert.DoesNotContain("server_address=", line, StringComparison.Ordinal);
            Assert.DoesNotContain("server_port=", line, StringComparison.Ordinal);
            Assert.DoesNotContain("network_peer_address=", line, StringComparison.Ordinal);
            Assert.DoesNotContain("dns_question_name=", line, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1", line, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void TheViewKeepsPeerAddressesOffHttpClientAndDnsMetricsOnly()
    {
        using var http = new System.Diagnostics.Metrics.Meter("System.Net.Http");
        using var dns = new System.Diagnostics.Metrics.Meter("System.Net.NameResolution");
        using var product = new System.Diagnostics.Metrics.Meter("AnomalyClustering.Tests.View");

        var request = ServiceDefaults.ServiceDefaultsExtensions.WithoutPeerAddresses(http.CreateHistogram<double>("http.client.request.duration"));
        var lookup = ServiceDefaults.ServiceDefaultsExtensions.WithoutPeerAddresses(dns.CreateHistogram<double>("dns.lookup.duration"));

        Assert.NotNull(request?.TagKeys);
        Assert.Contains("http.response.status_code", request.TagKeys);
        Assert.DoesNotContain("server.address", request.TagKeys);
        Assert.DoesNotContain("network.peer.address", request.TagKeys);
        Assert.NotNull(lookup?.TagKeys);
        Assert.DoesNotContain("dns.question.name", lookup.TagKeys);
        Assert.Null(ServiceDefaults.ServiceDefaultsExtensions.WithoutPeerAddresses(product.CreateCounter<long>("jobs")));
    }
}
