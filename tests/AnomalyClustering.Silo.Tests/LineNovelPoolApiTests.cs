using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Silo.Lines;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A line's novel pool over HTTP against a real in-process silo: images posted to a line whose radius lets nothing in are
/// pooled once each, <c>POST /lines/{name}/recluster</c> proposes clusters of them, naming one makes the next catalog version,
/// and the pool's refusals are ProblemDetails (404 unknown line or proposal, 409 empty pool or name taken, 400 bad input).
/// </summary>
public sealed class LineNovelPoolApiTests(SiloServer server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task PostedNovelImagesArePooledReclusteredAndANamedProposalBecomesTheNextVersion()
    {
        var jobId = await CompletedJobAsync();
        var name = "pool-" + Guid.NewGuid().ToString("N")[..8];
        // A radius of a millionth of each cluster's spread: every posted image is novel.
        using (var created = await Client.PostAsJsonAsync("/lines", new { name, fromJob = jobId, acceptanceFactor = 0.000001 }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/recluster", new { clusters = "auto" }, TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "empty");

        var files = Enumerable.Range(0, 3).Select(i => ($"scratch_{i}.png", SyntheticSurfacePainter.PaintPng(DefectType.Scratch, new Random(700 + i))))
            .Concat(Enumerable.Range(0, 3).Select(i => ($"stain_{i}.png", SyntheticSurfacePainter.PaintPng(DefectType.Stain, new Random(800 + i)))))
            .ToList();
        var decided = await PostAsync(name, files);
        Assert.All(decided.Images, image => Assert.Equal("novel", image.Decision?.Decision));
        await PostAsync(name, files[..2]);

        var pool = (await Client.GetFromJsonAsync<NovelPoolView>($"/lines/{name}/novel", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(6, pool.PoolSize);
        Assert.Null(pool.Proposals);
        Assert.Null(pool.Reclustering);
        using var reclustered = await Client.PostAsJsonAsync($"/lines/{name}/recluster", new { clusters = 2 }, TestContext.Current.CancellationToken);
        // Answered at once: a full pool's recluster outlasts a request; GET /lines/{name}/novel shows it run and end.
        Assert.Equal(HttpStatusCode.Accepted, reclustered.StatusCode);
        Assert.Equal($"/lines/{name}/novel", reclustered.Headers.Location?.OriginalString);
        var request = (await reclustered.Content.ReadFromJsonAsync<NovelReclusterRequest>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(2, request.ClusterCount);
        var set = await ReclusteredAsync(name, request.RequestId);
        Assert.Equal((1, 6, false), (set.Run, set.PoolSize, set.Automatic));
        Assert.Equal(6, set.Proposals.Sum(p => p.Size));
        Assert.Equal(decided.Images.Select(image => image.ImageId).Order(), set.Proposals.SelectMany(p => p.Members).Order());

        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/recluster", new { clusters = "many" }, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "whole number");
        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/recluster", new { clusters = 7 }, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "between 1 and 6");
        await ExpectProblemAsync(await Client.PostAsJsonAsync("/lines/no-such-line/recluster", new { clusters = 2 }, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no line");
        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/proposals/p5/name", new { name = "dent" }, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no proposal 'p5'");
        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/proposals/p1/name", new { name = "Novel" }, TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "decision of its own");
        await ExpectProblemAsync(await Client.PutAsJsonAsync($"/lines/{name}/novel/settings", new { capacity = 0 }, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "capacity");

        using var named = await Client.PostAsJsonAsync($"/lines/{name}/proposals/p1/name", new { name = "dent" }, TestContext.Current.CancellationToken);

        var text = await named.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(named.StatusCode == HttpStatusCode.Created, text);
        var view = System.Text.Json.JsonSerializer.Deserialize<LineView>(text, SiloServer.Json)!;
        Assert.Equal(2, view.Version);
        Assert.Equal([1, 2], view.Versions);
        Assert.Equal(("dent", set.Proposals[0].Size), (view.Clusters[^1].Name, view.Clusters[^1].Size));
        Assert.Equal(6 - set.Proposals[0].Size, (await Client.GetFromJsonAsync<NovelPoolView>($"/lines/{name}/novel", SiloServer.Json, TestContext.Current.CancellationToken))!.PoolSize);
        await ExpectProblemAsync(await Client.PostAsJsonAsync($"/lines/{name}/proposals/p2/name", new { name = "DENT" }, TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "already has a defect type");
        // Posted again, an image keeps the decision of version 1 and does not join the pool twice.
        var again = await PostAsync(name, files[..1]);
        Assert.Equal((true, 1), (again.Images[0].Repeated, again.Images[0].Decision!.CatalogVersion));
    }

    [Fact]
    public async Task TheCliReclustersAndNamesThroughTheServer()
    {
        var jobId = await CompletedJobAsync();
        var name = "pool-cli-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await Client.PostAsJsonAsync("/lines", new { name, fromJob = jobId, acceptanceFactor = 0.000001 }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await PostAsync(name, [.. Enumerable.Range(0, 4).Select(i => ($"hole_{i}.png", SyntheticSurfacePainter.PaintPng(DefectType.Hole, new Random(900 + i))))]);
        string[] remote = ["--server", server.BaseAddress.ToString(), "--token", server.AdminToken];

        var reclustered = CliRun.InProcess(["line", "recluster", name, "--clusters", "2", .. remote]);
        Assert.True(reclustered.ExitCode == 0, reclustered.Error + reclustered.Output);
        Assert.Contains("recluster 1 of 4 novel images: 2 proposals (number given)", reclustered.Output);
        var named = CliRun.InProcess(["line", "name", name, "p1", "dent", .. remote]);
        Assert.True(named.ExitCode == 0, named.Error + named.Output);
        Assert.Contains("version 2: proposal p1 is now the defect type dent", named.Output);

        CliRun.InProcess(["line", "name", name, "p1", "pit", .. remote]).AssertOneLineError(CliExitCodes.InputError, "already named 'dent'");
        CliRun.InProcess(["line", "recluster", "no-such-line", .. remote]).AssertOneLineError(CliExitCodes.InputError, "no line");
        CliRun.InProcess(["line", "recluster", name, "--server", server.BaseAddress.ToString(), "--store", "somewhere"]).AssertOneLineError(CliExitCodes.InputError, "--store");
    }

    private async Task<string> CompletedJobAsync()
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, 3, 51);
        using var form = ApiDatasets.UploadForm(folder.Path, new JobOptions { Clusters = 2, Mode = "average", PretrainDimension = 64, TargetDimension = 64 });
        using var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.JobId;
        await server.WaitAsync(jobId);
        var status = (await Client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.True(status.State == JobState.Completed, status.Error);
        return jobId;
    }

    private async Task<LineImagesResponse> PostAsync(string name, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (fileName, bytes) in files)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(content, "images", fileName);
        }
        using var response = await Client.PostAsync($"/lines/{name}/images", form, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return System.Text.Json.JsonSerializer.Deserialize<LineImagesResponse>(text, SiloServer.Json)!;
    }

    /// <summary>The proposals of request <paramref name="requestId"/> once GET /lines/{name}/novel shows them; fails on its stored failure.</summary>
    private async Task<NovelProposalSet> ReclusteredAsync(string name, string requestId)
    {
        // Generous: the machine running the tests may be loaded.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var pool = (await Client.GetFromJsonAsync<NovelPoolView>($"/lines/{name}/novel", SiloServer.Json, TestContext.Current.CancellationToken))!;
            if (pool.Proposals is { } set && set.RequestId == requestId)
            {
                return set;
            }
            // Looked up among the failures by its own id, as line recluster --server does.
            var failed = pool.ReclusterFailures?.FirstOrDefault(failure => failure.RequestId == requestId);
            Assert.True(failed is null, failed?.Message);
            Assert.NotNull(pool.ReclusterFailures);
            Assert.True(DateTime.UtcNow < deadline, $"recluster {requestId} did not end within 2 minutes");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static async Task ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string fragment)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == status, $"{response.StatusCode}: {text}");
            Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.MediaType ?? "");
            Assert.Contains(fragment, text, StringComparison.OrdinalIgnoreCase);
        }
    }
}
