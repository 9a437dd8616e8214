using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>The paged result endpoints against a real in-process silo: cluster pages, one image's alpha map, error pages, refusals.</summary>
public sealed class JobResultPagesTests(SiloServer server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task PagesCoverEachClusterNearestFirstAndTheImageAndErrorEndpointsAnswerFromTheResult()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        folder.Write([.. "this is not a picture"u8], "hole", "broken.png");
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
        using var response = await Client.PostAsync("/jobs/upload", form, cancellation);
        var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, cancellation))!;
        var done = await server.WaitAsync(accepted.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        var jobId = accepted.JobId;
        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, cancellation))!;
        // The files a client downloads are the independent account of every image's cluster.
        var result = await server.DownloadResultAsync(jobId);

        foreach (var cluster in clusters.Clusters)
        {
            // Pages of 2 put together are the cluster's members, each page nearest to the centroid first.
            var paged = new List<ClusterImage>();
            for (var offset = 0; offset < cluster.Size; offset += 2)
            {
                var page = (await Client.GetFromJsonAsync<ClusterImagePage>($"/jobs/{jobId}/clusters/{cluster.Cluster}/images?offset={offset}&limit=2", SiloServer.Json, cancellation))!;
                Assert.Equal(cluster.Size, page.Total);
                Assert.Equal(offset, page.Offset);
                Assert.InRange(page.Images.Count, 1, 2);
                paged.AddRange(page.Images);
            }
            Assert.Equal(
                result.Images.Where(image => image.Cluster == cluster.Cluster).Select(image => image.Id).Order(StringComparer.Ordinal),
                paged.Select(image => image.Id).Order(StringComparer.Ordinal));
            // The cluster's most typical image heads its first page.
            Assert.Equal(cluster.CentreImage, paged[0].Id);
            Assert.Equal(paged.Select(image => image.DistanceToCentre!.Value).Order(), paged.Select(image => image.DistanceToCentre!.Value));
            Assert.All(paged, image => Assert.True(image.AnomalyScore > 0));
        }

        var first = clusters.Clusters[0].CentreImage!;
        var detail = (await Client.GetFromJsonAsync<JobImageDetail>($"/jobs/{jobId}/images/{first}", SiloServer.Json, cancellation))!;
        Assert.Equal(first, detail.Id);
        Assert.Equal(clusters.Clusters[0].Cluster, detail.Cluster);
        Assert.Equal(detail.GridHeight * detail.GridWidth, detail.Alpha!.Count);
        Assert.Equal(1.0, detail.Alpha.Sum(), 1e-4);
        Assert.Equal(result.Images.Single(image => image.Id == first).PatchWeights, detail.Alpha);
        Assert.True(detail.AnomalyScore > 0);

        var errors = (await Client.GetFromJsonAsync<ResultErrorPage>($"/jobs/{jobId}/result/errors?limit=1", SiloServer.Json, cancellation))!;
        Assert.Equal(1, errors.Total);
        Assert.Equal("hole/broken.png", Assert.Single(errors.Errors).Id);
        var beyond = (await Client.GetFromJsonAsync<ResultErrorPage>($"/jobs/{jobId}/result/errors?offset=5", SiloServer.Json, cancellation))!;
        Assert.Empty(beyond.Errors);

        using var badLimit = await Client.GetAsync($"/jobs/{jobId}/clusters/0/images?limit=0", cancellation);
        await JobApiTests.ProblemAsync(badLimit, HttpStatusCode.BadRequest, "limit is 0");
        using var badOffset = await Client.GetAsync($"/jobs/{jobId}/result/errors?offset=-1", cancellation);
        await JobApiTests.ProblemAsync(badOffset, HttpStatusCode.BadRequest, "offset is -1");
        using var noCluster = await Client.GetAsync($"/jobs/{jobId}/clusters/99/images", cancellation);
        await JobApiTests.ProblemAsync(noCluster, HttpStatusCode.NotFound, "no cluster 99");
        using var noImage = await Client.GetAsync($"/jobs/{jobId}/images/hole/absent.png", cancellation);
        await JobApiTests.ProblemAsync(noImage, HttpStatusCode.NotFound, "hole/absent.png");
        using var brokenImage = await Client.GetAsync($"/jobs/{jobId}/images/hole/broken.png", cancellation);
        await JobApiTests.ProblemAsync(brokenImage, HttpStatusCode.NotFound, "hole/broken.png");
    }
}
