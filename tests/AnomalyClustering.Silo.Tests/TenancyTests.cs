using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// Jobs belong to the tenant (<c>tid</c> claim) of the caller who submitted them: another tenant gets the 404 of an unknown
/// job on every job route and does not see the job in the list; the owner's tenant does.
/// </summary>
public sealed class TenancyTests(SiloServer server)
{
    [Fact]
    public async Task AnotherTenantGets404OnEveryJobRouteAndDoesNotSeeTheJobInTheList()
    {
        using var tenantA = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-a"));
        using var tenantB = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-b"));
        using var folder = new AnomalyClustering.Cli.Tests.TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 97);
        var jobId = "tenancy-" + Guid.NewGuid().ToString("N");
        using (var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small, jobId))
        using (var submitted = await tenantA.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
            var accepted = await submitted.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken);
            Assert.Equal("tenant-a", accepted!.Tenant);
        }
        var finished = await server.WaitAsync(jobId, tenantA);
        Assert.Equal(JobState.Completed, finished.State);

        // Exactly the answer of a job that does not exist: tenant B cannot tell the job is there.
        var unknownId = "no-such-job-" + Guid.NewGuid().ToString("N");
        var unknown = await JobApiTests.ProblemAsync(await tenantB.GetAsync($"/jobs/{unknownId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, unknownId);
        string[] reads = ["", "/result", "/clusters", "/errors", "/report", "/clusters/0/images", "/result/errors"];
        foreach (var route in reads)
        {
            var problem = await JobApiTests.ProblemAsync(await tenantB.GetAsync($"/jobs/{jobId}{route}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
            Assert.Equal(unknown.GetProperty("title").GetString(), problem.GetProperty("title").GetString());
            Assert.Equal(unknown.GetProperty("detail").GetString()!.Replace(unknownId, jobId, StringComparison.Ordinal), problem.GetProperty("detail").GetString());
        }
        await JobApiTests.ProblemAsync(await tenantB.PostAsync($"/jobs/{jobId}/cancel", null, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
        using (var name = new StringContent("{\"name\":\"crack\"}", Encoding.UTF8, "application/json"))
        {
            await JobApiTests.ProblemAsync(await tenantB.PutAsync($"/jobs/{jobId}/clusters/0/name", name, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
        }
        // A caller whose token names no tenant is not the job's tenant either.
        await JobApiTests.ProblemAsync(await server.Client.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);

        Assert.DoesNotContain(await ListAsync(tenantB), job => job.JobId == jobId);
        Assert.DoesNotContain(await ListAsync(server.Client), job => job.JobId == jobId);
        Assert.Contains(await ListAsync(tenantA), job => job.JobId == jobId);

        // Tenant B cannot take over the id (nor learn the job's status by submitting it).
        using (var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small, jobId))
        {
            await JobApiTests.ProblemAsync(await tenantB.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "taken");
        }

        // Tenant A still has it all.
        using (var result = await tenantA.GetAsync($"/jobs/{jobId}/result", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }
        using (var cancel = await tenantA.PostAsync($"/jobs/{jobId}/cancel", null, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId, tenantA)).State);
    }

    [Fact]
    public void AJobWithNoTenantIsEveryonesAndATenantsJobOnlyItsOwn()
    {
        var untenanted = new JobStatus { JobId = "x" };
        Assert.True(untenanted.IsVisibleTo(null));
        Assert.True(untenanted.IsVisibleTo("tenant-a"));
        var owned = untenanted with { Tenant = "tenant-a" };
        Assert.True(owned.IsVisibleTo("tenant-a"));
        Assert.False(owned.IsVisibleTo("Tenant-A"));
        Assert.False(owned.IsVisibleTo(null));
        Assert.True(new AnomalyClustering.Silo.Api.JobCaller(SeesAll: true, Tenant: null).Sees(owned));
    }

    private static async Task<JobStatus[]> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JobStatus[]>("/jobs?limit=1000", SiloServer.Json, TestContext.Current.CancellationToken))!;
}
