using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Silo.Security;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// <c>DELETE /jobs/{id}</c> (and <c>jobs delete</c>): the job is stopped if it runs, every blob it owns (its upload and job
/// prefixes) is deleted, it leaves the list, and the id reads as unknown; another tenant, or a caller without
/// <c>Jobs.Cancel</c>, deletes nothing.
/// </summary>
public sealed class JobDeletionTests(SiloServer server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task DeletingACompletedJobDeletesItsBlobsAndTheIdBecomesUnknown()
    {
        var jobId = await UploadAsync(Client, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);
        Assert.NotEmpty(await BlobsOfAsync(jobId));

        using (var deleted = await Client.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Empty(await BlobsOfAsync(jobId));
        foreach (var route in new[] { "", "/result", "/clusters", "/errors" })
        {
            await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}{route}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, $"there is no job '{jobId}'");
        }
        var listed = (await Client.GetFromJsonAsync<JobStatus[]>("/jobs?limit=1000", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.DoesNotContain(listed, job => job.JobId == jobId);
        await JobApiTests.ProblemAsync(await Client.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
    }

    [Fact]
    public async Task DeletingARunningJobStopsItBeforeItsBlobsGo()
    {
        var jobId = await UploadAsync(Client, gated: true);
        var uploads = $"uploads/{jobId}/";
        await WaitUntilAsync(() => server.Store.IsWaiting(uploads));

        // The deletion waits for the job's image work to end; the held image is let go once the deletion has begun.
        var deleting = Client.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken);
        server.Store.Release(uploads);
        using (var deleted = await deleting)
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
        Assert.Empty(await BlobsOfAsync(jobId));
        // The id is free again: a new job under it starts from nothing.
        var again = await UploadAsync(Client, gated: false, jobId);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(again)).State);
    }

    [Fact]
    public async Task AnIdBeingDeletedRefusesNewJobsUntilTheDeletionEndsAndLosesNoneOfTheNextJob()
    {
        var cancel = TestContext.Current.CancellationToken;
        var jobId = await UploadAsync(Client, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);

        // A deletion that runs longer than the request waits (a million-image job's): 202 with the status to follow.
        var started = await HeldDeletionAsync(Client, jobId);
        var blobs = await BlobsOfAsync(jobId);

        var shown = (await Client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, cancel))!;
        Assert.Equal(started, shown.DeletionStartedAt);
        Assert.Null(shown.DeletionError);
        using (var folder = new TempFolder())
        {
            ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 137);
            using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small, jobId);
            await BeingDeletedAsync(await Client.PostAsync("/jobs/upload", form, cancel), jobId, started);
        }
        await BeingDeletedAsync(await Client.PostAsJsonAsync("/jobs", new { jobId, prefix = $"uploads/{jobId}/" }, cancel), jobId, started);
        await BeingDeletedAsync(await Client.PostAsync($"/jobs/{jobId}/retry", null, cancel), jobId, started);
        await BeingDeletedAsync(await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/0/name", new { name = "crack" }, cancel), jobId, started);
        // Nothing of the refused requests was stored, and the held deletion has deleted nothing yet.
        Assert.Equal(blobs, await BlobsOfAsync(jobId));

        // Asked for again, the deletion is the running one (its start); let go, it ends by itself and frees the id.
        Assert.Equal(started, await HeldDeletionAsync(Client, jobId));
        server.Store.ReleaseDeletes($"uploads/{jobId}/");
        await server.WaitUntilUnknownAsync(jobId, Client);
        Assert.Empty(await BlobsOfAsync(jobId));
        var again = await UploadAsync(Client, gated: false, jobId);
        var next = await server.WaitAsync(again);
        Assert.Equal(JobState.Completed, next.State);
        Assert.Null(next.DeletionStartedAt);
        Assert.NotEmpty(await BlobsOfAsync(jobId));
    }

    [Fact]
    public async Task AnotherTenantLearnsOnlyThatAnIdBeingDeletedIsTaken()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var owner = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-deleting"));
        using var stranger = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-next"));
        var jobId = await UploadAsync(owner, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId, owner)).State);
        var started = await HeldDeletionAsync(owner, jobId);

        using (var response = await stranger.PostAsJsonAsync("/jobs", new { jobId, prefix = $"uploads/{jobId}/" }, cancel))
        {
            var body = await response.Content.ReadAsStringAsync(cancel);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("is taken", body, StringComparison.Ordinal);
            Assert.DoesNotContain("deleted", body, StringComparison.Ordinal);
        }
        await BeingDeletedAsync(await owner.PostAsJsonAsync("/jobs", new { jobId, prefix = $"uploads/{jobId}/" }, cancel), jobId, started);
        // The stranger cannot follow the deletion either.
        await JobApiTests.ProblemAsync(await stranger.GetAsync($"/jobs/{jobId}", cancel), HttpStatusCode.NotFound, $"there is no job '{jobId}'");
        server.Store.ReleaseDeletes($"uploads/{jobId}/");
        await server.WaitUntilUnknownAsync(jobId, owner);
    }

    /// <summary>
    /// Holds the deletes of the job's uploads and asks for its deletion: the request waits its while and answers 202 with the
    /// status (the deletion's start, nothing deleted yet). Returns the start.
    /// </summary>
    private async Task<DateTimeOffset> HeldDeletionAsync(HttpClient client, string jobId)
    {
        server.Store.HoldDeletes($"uploads/{jobId}/");
        using var response = await client.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
        Assert.Equal($"/jobs/{jobId}", response.Headers.Location?.OriginalString);
        await WaitUntilAsync(() => server.Store.IsDeleteWaiting($"uploads/{jobId}/"));
        var status = System.Text.Json.JsonSerializer.Deserialize<JobStatus>(body, SiloServer.Json)!;
        Assert.Equal(0, status.DeletedBlobs);
        return Assert.NotNull(status.DeletionStartedAt);
    }

    /// <summary>Asserts the 409 of an id whose job is being deleted since <paramref name="started"/>.</summary>
    private static async Task BeingDeletedAsync(HttpResponseMessage response, string jobId, DateTimeOffset started)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"{response.StatusCode}: {body}");
            Assert.Contains("Job being deleted", body, StringComparison.Ordinal);
            Assert.Contains($"job '{jobId}' is being deleted", body, StringComparison.Ordinal);
            Assert.Contains("deletionStartedAt", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnotherTenantOrACallerWithoutCancelDeletesNothing()
    {
        using var owner = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-owner"));
        using var stranger = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-stranger"));
        using var reader = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Read, ApiPermissions.Submit], tenant: "tenant-owner"));
        using var canceller = server.ClientOf(server.Tokens.Mint(scopes: [ApiPermissions.Cancel, ApiPermissions.Read], tenant: "tenant-owner"));
        var jobId = await UploadAsync(owner, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId, owner)).State);

        await JobApiTests.ProblemAsync(await stranger.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, $"there is no job '{jobId}'");
        using (var refused = await reader.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        Assert.NotEmpty(await BlobsOfAsync(jobId));
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId, owner)).State);

        using (var deleted = await canceller.DeleteAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        Assert.Empty(await BlobsOfAsync(jobId));
    }

    [Fact]
    public async Task TheCliDeletesAJobAndSaysWhenThereIsNone()
    {
        var jobId = await UploadAsync(Client, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);
        var url = server.BaseAddress.ToString();

        var deleted = CliRun.InProcess(["jobs", "delete", jobId, "--server", url, "--token", server.AdminToken]);

        Assert.True(deleted.ExitCode == 0, deleted.Error);
        Assert.Contains($"job {jobId} deleted", deleted.Output);
        Assert.Empty(await BlobsOfAsync(jobId));
        CliRun.InProcess(["jobs", "delete", jobId, "--server", url, "--token", server.AdminToken])
            .AssertOneLineError(CliExitCodes.InputError, $"there is no job '{jobId}'");
        CliRun.InProcess(["jobs", "delete", "no-such-job", "--server", url, "--token", server.Tokens.Mint(roles: [ApiPermissions.Read])])
            .AssertOneLineError(CliExitCodes.InputError, "Jobs.Cancel");
    }

    [Fact]
    public async Task TheClientFollowsADeletionThatOutlastsTheRequestUntilTheJobIsGone()
    {
        var cancel = TestContext.Current.CancellationToken;
        var jobId = await UploadAsync(Client, gated: false);
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);
        var uploads = $"uploads/{jobId}/";
        server.Store.HoldDeletes(uploads);
        using var client = new JobApiClient(server.BaseAddress, server.AdminToken);
        var followed = new List<JobStatus>();

        // The request answers 202 (the deletion is held); the client follows the status, and the first one it reads lets the
        // deletion go on.
        await client.DeleteAsync(jobId, status =>
        {
            followed.Add(status);
            server.Store.ReleaseDeletes(uploads);
        }, cancel);

        Assert.NotEmpty(followed);
        Assert.All(followed, status => Assert.NotNull(status.DeletionStartedAt));
        Assert.Empty(await BlobsOfAsync(jobId));
        await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}", cancel), HttpStatusCode.NotFound, jobId);
    }

    /// <summary>Every blob under the job's two prefixes.</summary>
    private async Task<List<string>> BlobsOfAsync(string jobId)
    {
        var names = new List<string>();
        foreach (var prefix in new[] { $"jobs/{jobId}/", $"uploads/{jobId}/" })
        {
            await foreach (var blob in server.Store.ListAsync(prefix, TestContext.Current.CancellationToken))
            {
                names.Add(blob.Name);
            }
        }
        return names;
    }

    /// <summary>Uploads two small classes as a new job (one image held at the store's gate when <paramref name="gated"/>).</summary>
    private static async Task<string> UploadAsync(HttpClient client, bool gated, string? jobId = null)
    {
        jobId ??= "delete-" + Guid.NewGuid().ToString("N");
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 131);
        if (gated)
        {
            File.Move(folder.Combine("hole", "hole_001.png"), folder.Combine("hole", $"{GatedBlobStore.GateMarker}hole_001.png"));
        }
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small, jobId);
        using var response = await client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return jobId;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
