using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A job whose result blob exists is never 404: with its coordinator's state gone (as after Redis restarted empty) the API
/// answers from the result document, for the job's own tenant only, and a new submission cannot take the id over.
/// </summary>
public sealed class RecoveredJobTests(SiloServer server)
{
    [Fact]
    public async Task ACompletedJobWhoseCoordinatorStateIsLostStillAnswersFromItsResult()
    {
        using var owner = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-recover"));
        using var stranger = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-other"));
        var jobId = "recover-" + Guid.NewGuid().ToString("N");
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 151);
        folder.Write([.. "not a picture"u8], "hole", "broken.png");
        await UploadAsync(owner, folder.Path, jobId, HttpStatusCode.Accepted);
        var completed = await server.WaitAsync(jobId, owner);
        Assert.Equal(JobState.Completed, completed.State);
        var clustersBefore = await owner.GetStringAsync($"/jobs/{jobId}/clusters", TestContext.Current.CancellationToken);

        // What an empty Redis leaves: no coordinator state, no registry entry; the blobs are still there.
        await server.ForgetCoordinatorStateAsync(jobId);
        await server.Grains.GetGrain<IJobRegistryGrain>(0).Remove(jobId);
        Assert.Equal(JobState.Unknown, (await server.Grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus()).State);

        var recovered = (await owner.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(JobState.Completed, recovered.State);
        Assert.Equal(completed.ClusterCount, recovered.ClusterCount);
        Assert.Equal(completed.TotalImages, recovered.TotalImages);
        Assert.Equal(completed.FailedImages, recovered.FailedImages);
        Assert.Equal(completed.CreatedAt, recovered.CreatedAt);
        Assert.Equal("tenant-recover", recovered.Tenant);
        Assert.Equal(clustersBefore, await owner.GetStringAsync($"/jobs/{jobId}/clusters", TestContext.Current.CancellationToken));
        foreach (var route in new[] { "/result", "/report", "/clusters/0/images", "/result/errors" })
        {
            using var answer = await owner.GetAsync($"/jobs/{jobId}{route}", TestContext.Current.CancellationToken);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{route}: {answer.StatusCode}");
        }
        var errors = (await owner.GetFromJsonAsync<ImageFailure[]>($"/jobs/{jobId}/errors", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal("hole/broken.png", Assert.Single(errors).Id);

        // Still the owner's only; and a submission under the id answers the recovered job instead of overwriting its result.
        await JobApiTests.ProblemAsync(await stranger.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, $"there is no job '{jobId}'");
        await UploadAsync(stranger, folder.Path, jobId, HttpStatusCode.Conflict);
        var again = await UploadAsync(owner, folder.Path, jobId, HttpStatusCode.OK);
        Assert.Equal(JobState.Completed, again.State);
        Assert.Equal(JobState.Unknown, (await server.Grains.GetGrain<IClusteringJobGrain>(jobId).GetStatus()).State);

        // Without its owner record the job's tenant is unknown: no tenant-scoped caller sees it.
        await server.Store.DeleteAsync(JobBlobNames.Owner(jobId), TestContext.Current.CancellationToken);
        await JobApiTests.ProblemAsync(await owner.GetAsync($"/jobs/{jobId}/result", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);

        // Deleting it deletes the result too; then it is unknown for good.
        await RecoveredJobs.WriteOwnerAsync(server.Store, recovered, TestContext.Current.CancellationToken);
        using (var deleted = await owner.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await JobApiTests.ProblemAsync(await owner.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
    }

    private static async Task<JobStatus> UploadAsync(HttpClient client, string folder, string jobId, HttpStatusCode expected)
    {
        using var form = ApiDatasets.UploadForm(folder, ApiDatasets.Small, jobId);
        using var response = await client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"expected {expected}, got {response.StatusCode}: {text}");
        return expected == HttpStatusCode.Conflict ? null! : System.Text.Json.JsonSerializer.Deserialize<JobStatus>(text, SiloServer.Json)!;
    }
}
