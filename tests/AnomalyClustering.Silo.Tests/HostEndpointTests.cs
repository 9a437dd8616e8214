using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;

namespace AnomalyClustering.Silo.Tests;

/// <summary>What operators scrape and probe on every silo: health endpoints and the Prometheus endpoint when it is switched on.</summary>
public sealed class HostEndpointTests(SiloServer server)
{
    [Fact]
    public async Task HealthEndpointsAnswerAndPrometheusSeesTheProductsMetricsAfterAJob()
    {
        var live = await server.Client.GetAsync("/health/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await server.Client.GetStringAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal("Healthy", ready);

        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
        using var response = await server.Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(JobState.Completed, (await server.WaitAsync(accepted.JobId)).State);

        using var metrics = await server.Client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        foreach (var name in new[] { "anomaly_clustering_images_received_total", "anomaly_clustering_stage_duration_seconds_bucket", "anomaly_clustering_jobs_completed_total", "orleans_" })
        {
            Assert.Contains(name, text);
        }
    }
}
