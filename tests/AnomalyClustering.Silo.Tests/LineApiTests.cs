using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Silo.Lines;
using AnomalyClustering.Silo.Security;
using AnomalyClustering.Storage;
using SkiaSharp;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// Production lines against a real in-process silo: a catalog made from a completed job, images of its classes decided by
/// the same grain path and rule, an unrelated image explained by its distances, decisions logged once per image, tenancy
/// and every refusal as ProblemDetails.
/// </summary>
public sealed class LineApiTests(SiloServer server)
{
    private HttpClient Client => server.Client;

    [Theory]
    [InlineData("POST", "/lines/plate-a/images", "application/json", "it takes multipart/form-data with 1 to 32 image files.")]
    [InlineData("PUT", "/lines/plate-a/novel/settings", "text/plain", "it takes application/json ({\"capacity\": 2000, \"reclusterEvery\": 50, \"clusterCount\": null}).")]
    [InlineData("POST", "/lines", "text/plain", "it takes application/json ({\"name\": \"plate-a\", \"fromJob\": \"<jobId>\"}, optional margin and acceptanceFactor).")]
    public async Task AWrongContentTypeOnALineEndpointIs415NamingWhatThatEndpointTakes(string method, string path, string contentType, string takes)
    {
        // Every 415 of routing described the /jobs endpoints: "POST /jobs takes application/json ..., POST /jobs/upload ...".
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, contentType) };
        var problem = await JobApiTests.ProblemAsync(await Client.SendAsync(request, TestContext.Current.CancellationToken), HttpStatusCode.UnsupportedMediaType, takes);
        Assert.StartsWith($"{method} {path} does not take content type '{contentType}; charset=utf-8': ", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("/jobs", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ALineFromAJobDecidesImagesOfItsClassesAndLogsEachImageOnce()
    {
        // The default embedding sizes: the small ones of the other API tests do not separate the classes of a job this small.
        var jobId = await CompletedJobAsync(Client, seed: 41, new JobOptions { Clusters = 2, Seed = 3 }, perClass: 6);
        var name = "plate-" + Guid.NewGuid().ToString("N")[..8];
        // The clusters named after their majority class, as an engineer does in the report.
        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        foreach (var cluster in clusters.Clusters)
        {
            var majority = cluster.Labels.MaxBy(pair => pair.Value).Key;
            using var named = await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/{cluster.Cluster}/name", new { name = majority }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        }

        var created = await CreateAsync(Client, name, jobId);
        Assert.Equal(1, created.Version);
        Assert.Equal(jobId, created.SourceJob);
        Assert.Equal(["good", "hole"], created.Clusters.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(created.Clusters, c => Assert.True(c.Size > 0 && c.AcceptanceRadius > 0, $"{c.Name}: {c.Size}, {c.AcceptanceRadius}"));
        var second = await CreateAsync(Client, name, jobId);
        Assert.Equal(2, second.Version);
        var shown = (await Client.GetFromJsonAsync<LineView>($"/lines/{name}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(2, shown.Version);
        Assert.Equal([1, 2], shown.Versions);
        Assert.True(await server.Store.ExistsAsync($"lines/_/{name}/v1.json", TestContext.Current.CancellationToken));
        await using (var stored = await server.Store.OpenReadAsync($"lines/_/{name}/v2.json", TestContext.Current.CancellationToken))
        {
            var catalog = LineCatalogJson.Read(stored);
            Assert.Equal(jobId, catalog.Scoring!.JobId);
            Assert.NotEmpty(catalog.Scoring.ReferenceFeatureBlobs);
        }

        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("new"), DefectType.Hole, 2, seed: 301);
        var holes = Directory.GetFiles(folder.Combine("new")).Order(StringComparer.Ordinal).ToList();
        var grey = folder.Write(GreyPng(), "grey.png");
        var broken = folder.Write([.. "this is not a picture"u8], "broken.png");

        var answer = await PostImagesAsync(Client, name, [.. holes, grey, broken]);
        Assert.Equal(2, answer.CatalogVersion);
        Assert.Equal(4, answer.Images.Count);
        foreach (var hole in answer.Images.Take(2))
        {
            Assert.Null(hole.Error);
            Assert.False(hole.Repeated);
            Assert.Equal(64, hole.ImageId!.Length);
            Assert.True(hole.Decision!.Decision == "hole", System.Text.Json.JsonSerializer.Serialize(new { clusters, created, answer }, SiloServer.Json));
            Assert.Equal("hole", hole.Decision.Nearest);
            Assert.Equal(2, hole.Decision.CatalogVersion);
            Assert.NotNull(hole.Decision.AnomalyScore);
            Assert.Equal(["good", "hole"], hole.Decision.Distances.Keys.Order(StringComparer.Ordinal));
        }
        var flat = answer.Images[2].Decision!;
        TestContext.Current.TestOutputHelper?.WriteLine($"grey image: {flat.Decision} ({flat.Outcome}), nearest {flat.Nearest}, novelty {flat.NoveltyScore}, distances {string.Join(", ", flat.Distances)}; holes: {string.Join("; ", answer.Images.Take(2).Select(i => $"{i.Decision!.Decision} novelty {i.Decision.NoveltyScore}"))}");
        Assert.Equal(2, flat.Distances.Count);
        // Flagged novel here (novelty about 1.5, just past the radius); what must hold is that its distances explain it.
        Assert.True(flat.Decision == "novel" || flat.NoveltyScore > 0, $"grey image: {flat.Decision}, novelty {flat.NoveltyScore}");
        Assert.Equal("not-an-image", answer.Images[3].Error!.Reason);
        Assert.Null(answer.Images[3].Decision);

        // Posting the same bytes again answers the logged decision and logs nothing new.
        var again = await PostImagesAsync(Client, name, [holes[0]]);
        var repeated = Assert.Single(again.Images);
        Assert.True(repeated.Repeated);
        Assert.Equal(answer.Images[0].Decision!.DecidedAt, repeated.Decision!.DecidedAt);
        var page = (await Client.GetFromJsonAsync<LineDecisionPage>($"/lines/{name}/decisions", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(3, page.Decisions.Count);
        Assert.False(page.HasMore);
        Assert.Equal(answer.Images.Take(3).Select(i => i.ImageId).Order(StringComparer.Ordinal), page.Decisions.Select(d => d.ImageId).Order(StringComparer.Ordinal));
        // Page by page with the continuation token: the same decisions in the same order, each once.
        var walked = new List<string>();
        string? next = null;
        do
        {
            var query = $"/lines/{name}/decisions?limit=1" + (next is null ? "" : "&continuation=" + Uri.EscapeDataString(next));
            var one = (await Client.GetFromJsonAsync<LineDecisionPage>(query, SiloServer.Json, TestContext.Current.CancellationToken))!;
            walked.Add(Assert.Single(one.Decisions).ImageId);
            next = one.Next;
            Assert.Equal(next is not null, one.HasMore);
        }
        while (next is not null);
        Assert.Equal(page.Decisions.Select(d => d.ImageId), walked);
        // The window: nothing before the first decision, all of them from it on.
        var firstAt = page.Decisions.Min(d => d.DecidedAt);
        var before = (await Client.GetFromJsonAsync<LineDecisionPage>($"/lines/{name}/decisions?until={Uri.EscapeDataString(firstAt.ToString("O"))}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Empty(before.Decisions);
        var from = (await Client.GetFromJsonAsync<LineDecisionPage>($"/lines/{name}/decisions?since={Uri.EscapeDataString(firstAt.ToString("O"))}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(3, from.Decisions.Count);
        // Stored in Parquet parts under the hour of their decision, by the log's own flush (its timer, 500 decisions or its
        // deactivation; reads do not flush).
        await server.Grains.GetGrain<ILineDecisionLogGrain>($"lines/_/{name}/").Flush();
        var parts = new List<string>();
        await foreach (var blob in server.Store.ListAsync($"lines/_/{name}/decisions/", TestContext.Current.CancellationToken))
        {
            parts.Add(blob.Name);
        }
        Assert.NotEmpty(parts);
        Assert.All(parts, part => Assert.Matches(@"/decisions/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/part-[^/]+\.parquet$", part));

        // What line report draws: the stored image and its patch weights; then the report itself through --server.
        var holeId = answer.Images[0].ImageId!;
        Assert.Equal(File.ReadAllBytes(holes[0]), await Client.GetByteArrayAsync($"/lines/{name}/images/{holeId}", TestContext.Current.CancellationToken));
        var weights = (await Client.GetFromJsonAsync<LineImageWeights>($"/lines/{name}/images/{holeId}/weights", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.NotEmpty(weights.Weights);
        await JobApiTests.ProblemAsync(await Client.GetAsync($"/lines/{name}/images/{new string('0', 64)}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "holds no image");
        await JobApiTests.ProblemAsync(await Client.GetAsync($"/lines/{name}/images/..x/weights", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "image id");
        var html = folder.Combine("report.html");
        var reported = CliRun.InProcess(["line", "report", name, "--since", "1h", "--server", server.BaseAddress.ToString(), "--token", server.AdminToken, "-o", html]);
        Assert.True(reported.ExitCode == 0, reported.Error + reported.Output);
        var text = File.ReadAllText(html);
        Assert.Contains("<span id=\"decision-count\">3</span>", text);
        Assert.Contains($"data-image-id=\"{holeId}\"", text);
        Assert.Contains("class=\"heat\"", text);
        CliRun.InProcess(["line", "report", "no-such-line", "--server", server.BaseAddress.ToString(), "--token", server.AdminToken, "-o", html])
            .AssertOneLineError(CliExitCodes.InputError, "no-such-line");
    }

    [Fact]
    public async Task ASemiSupervisedLineScoresNewImagesAgainstTheJobsNormalBank()
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Combine("images"), perClass: 2, seed: 83);
        SyntheticImages.Write(folder.Combine("normal"), DefectType.Good, 2, seed: 84);
        string jobId;
        using (var form = ApiDatasets.UploadForm(folder.Combine("images"), ApiDatasets.Small with { Mode = "semi-supervised", Clusters = 2 }, normalFolder: folder.Combine("normal")))
        using (var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.JobId;
        }
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);
        var name = "semi-" + Guid.NewGuid().ToString("N")[..8];

        var created = await CreateAsync(Client, name, jobId);
        Assert.Equal("semi-supervised", created.Mode);
        var answer = await PostImagesAsync(Client, name, [folder.Write(SyntheticSurfacePainter.PaintPng(DefectType.Hole, new Random(85)), "new.png")]);

        var decided = Assert.Single(answer.Images);
        Assert.Null(decided.Error);
        Assert.NotNull(decided.Decision!.AnomalyScore);
        Assert.Equal(2, decided.Decision.Distances.Count);
    }

    [Fact]
    public async Task ALineBelongsToItsTenantAndBadRequestsAreRefused()
    {
        using var tenantA = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-a"));
        using var tenantB = server.ClientOf(server.Tokens.Mint(roles: [ApiPermissions.Admin], tenant: "tenant-b"));
        var jobId = await CompletedJobAsync(tenantA, seed: 53, ApiDatasets.Small with { Clusters = 2 }, perClass: 2);
        var name = "line-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(1, (await CreateAsync(tenantA, name, jobId)).Version);
        Assert.True(await server.Store.ExistsAsync($"lines/tenant-a/{name}/v1.json", TestContext.Current.CancellationToken));

        // Another tenant: the line and the job do not exist for it.
        await JobApiTests.ProblemAsync(await tenantB.GetAsync($"/lines/{name}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        await JobApiTests.ProblemAsync(await tenantB.GetAsync($"/lines/{name}/decisions", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        using (var form = Form(ImageFiles(2, seed: 77)))
        {
            await JobApiTests.ProblemAsync(await tenantB.PostAsync($"/lines/{name}/images", form, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        }
        await JobApiTests.ProblemAsync(await tenantB.PostAsJsonAsync("/lines", new { name, fromJob = jobId }, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);

        // Bad input.
        await JobApiTests.ProblemAsync(await tenantA.PostAsJsonAsync("/lines", new { name = "../up", fromJob = jobId }, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "line name");
        await JobApiTests.ProblemAsync(await tenantA.PostAsJsonAsync("/lines", new { name, fromJob = "no-such-job" }, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no-such-job");
        var margin = await JobApiTests.ProblemAsync(await tenantA.PostAsJsonAsync("/lines", new { name, fromJob = jobId, margin = 2.0 }, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "margin");
        // The field is the member the caller sent, not the catalog's property (was "Margin").
        Assert.Equal("margin", margin.GetProperty("field").GetString());
        await JobApiTests.ProblemAsync(await tenantA.GetAsync($"/lines/{name}/decisions?limit=0", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "limit");
        await JobApiTests.ProblemAsync(await tenantA.GetAsync($"/lines/{name}/decisions?since=yesterday", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "since");
        await JobApiTests.ProblemAsync(await tenantA.GetAsync($"/lines/{name}/decisions?since=2026-12-02T10:00:00Z&until=2026-12-02T09:00:00Z", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "until");
        await JobApiTests.ProblemAsync(await tenantA.GetAsync($"/lines/{name}/decisions?continuation=not-a-token", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "continuation");
        using (var empty = new MultipartFormDataContent { { new StringContent("x"), "note" } })
        {
            await JobApiTests.ProblemAsync(await tenantA.PostAsync($"/lines/{name}/images", empty, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "image files");
        }
        using (var many = Form([.. Enumerable.Repeat(ImageFiles(1, seed: 78)[0], LineApi.MaxImagesPerPost + 1)]))
        {
            await JobApiTests.ProblemAsync(await tenantA.PostAsync($"/lines/{name}/images", many, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "1 to 32");
        }
        // A file over the per-file limit is that image's error, not the request's.
        using (var large = Form([("large.png", new byte[SiloServer.MaxUploadFileBytes + 1])]))
        using (var response = await tenantA.PostAsync($"/lines/{name}/images", large, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = (await response.Content.ReadFromJsonAsync<LineImagesResponse>(SiloServer.Json, TestContext.Current.CancellationToken))!;
            Assert.Equal("too-large", Assert.Single(answer.Images).Error!.Reason);
        }
        using (var json = new StringContent("{}", Encoding.UTF8, "application/json"))
        {
            await JobApiTests.ProblemAsync(await tenantA.PostAsync($"/lines/{name}/images", json, TestContext.Current.CancellationToken), HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
        }

        // Deleting: another tenant cannot; the owner deletes every version and decision, and a line whose name extends it stays.
        Assert.Equal(1, (await CreateAsync(tenantA, name + "-b", jobId)).Version);
        await JobApiTests.ProblemAsync(await tenantB.DeleteAsync($"/lines/{name}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        using (var deleted = await tenantA.DeleteAsync($"/lines/{name}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await JobApiTests.ProblemAsync(await tenantA.GetAsync($"/lines/{name}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        await JobApiTests.ProblemAsync(await tenantA.DeleteAsync($"/lines/{name}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, name);
        await foreach (var left in server.Store.ListAsync($"lines/tenant-a/{name}/", TestContext.Current.CancellationToken))
        {
            Assert.Fail($"blob {left.Name} outlived its line");
        }
        Assert.True(await server.Store.ExistsAsync($"lines/tenant-a/{name}-b/v1.json", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ReadingTheDecisionsWritesNoPartAndShowsEveryDecisionAnswered()
    {
        // Before, every GET /lines/{name}/decisions flushed the log's buffer: a dashboard polling each second wrote some
        // 3,600 tiny parts per line and hour, which every later read listed and opened.
        var cancel = TestContext.Current.CancellationToken;
        var jobId = await CompletedJobAsync(Client, seed: 47, new JobOptions { Clusters = 2, Seed = 3 }, perClass: 3);
        var name = "polled-" + Guid.NewGuid().ToString("N")[..8];
        var prefix = $"lines/_/{name}/";
        await CreateAsync(Client, name, jobId);
        var answered = new List<string>();
        for (var post = 0; post < 3; post++)
        {
            using (var form = Form(ImageFiles(2, seed: 48 + post)))
            using (var decided = await Client.PostAsync($"/lines/{name}/images", form, cancel))
            {
                Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
                var images = (await decided.Content.ReadFromJsonAsync<LineImagesResponse>(SiloServer.Json, cancel))!.Images;
                answered.AddRange(images.Select(image => image.Decision!.ImageId));
            }
            for (var poll = 0; poll < 3; poll++)
            {
                var page = (await Client.GetFromJsonAsync<LineDecisionPage>($"/lines/{name}/decisions", SiloServer.Json, cancel))!;
                Assert.Equal(answered.Order(StringComparer.Ordinal), page.Decisions.Select(d => d.ImageId).Order(StringComparer.Ordinal));
            }
        }
        // SiloServer's logs flush by size or when asked only, so every part here would be a read's.
        Assert.Empty(await NamesAsync(LineBlobNames.Decisions(prefix)));

        // Pages of the buffer are the pages of the parts its flush writes: the same decisions in the same order, each once,
        // and a token taken before the flush goes on after it.
        var before = await WalkAsync(name, limit: 4);
        Assert.Equal(answered.Order(StringComparer.Ordinal), before.SelectMany(page => page.Decisions).Order(StringComparer.Ordinal));
        await server.Grains.GetGrain<ILineDecisionLogGrain>(prefix).Flush();
        Assert.NotEmpty(await NamesAsync(LineBlobNames.Decisions(prefix)));
        var after = await WalkAsync(name, limit: 4);
        Assert.Equal(before.Select(page => page.Next), after.Select(page => page.Next));
        Assert.Equal(before.Select(page => string.Join(' ', page.Decisions)), after.Select(page => string.Join(' ', page.Decisions)));
        var resumed = (await Client.GetFromJsonAsync<LineDecisionPage>(
            $"/lines/{name}/decisions?limit=4&continuation={Uri.EscapeDataString(before[0].Next!)}", SiloServer.Json, cancel))!;
        Assert.Equal(before[1].Decisions, resumed.Decisions.Select(d => d.ImageId));
    }

    /// <summary>Every page of a line's decisions: its image ids and its continuation token.</summary>
    private async Task<List<(List<string> Decisions, string? Next)>> WalkAsync(string name, int limit)
    {
        var pages = new List<(List<string> Decisions, string? Next)>();
        string? next = null;
        do
        {
            var query = $"/lines/{name}/decisions?limit={limit}" + (next is null ? "" : "&continuation=" + Uri.EscapeDataString(next));
            var page = (await Client.GetFromJsonAsync<LineDecisionPage>(query, SiloServer.Json, TestContext.Current.CancellationToken))!;
            next = page.Next;
            pages.Add(([.. page.Decisions.Select(d => d.ImageId)], next));
        }
        while (next is not null);
        return pages;
    }

    [Fact]
    public async Task ADeletedLineLeavesNoDecisionBehindAndANewLineOfItsNameStartsEmpty()
    {
        var cancel = TestContext.Current.CancellationToken;
        var jobId = await CompletedJobAsync(Client, seed: 45, new JobOptions { Clusters = 2, Seed = 3 }, perClass: 3);
        var name = "gone-" + Guid.NewGuid().ToString("N")[..8];
        var prefix = $"lines/_/{name}/";
        var linePins = FeatureCachePins.OwnerPrefix(prefix);
        await CreateAsync(Client, name, jobId);
        // The bags the line scores new images against are pinned against feature-cache expiry while it exists.
        Assert.NotEmpty(await NamesAsync(linePins));
        using (var form = Form(ImageFiles(2, seed: 46)))
        using (var decided = await Client.PostAsync($"/lines/{name}/images", form, cancel))
        {
            Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        }

        using (var deleted = await Client.DeleteAsync($"/lines/{name}", cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        // What the decision log's timer (every 30 s) or its deactivation does with decisions it still buffers.
        await server.Grains.GetGrain<ILineDecisionLogGrain>(prefix).Flush();
        await foreach (var left in server.Store.ListAsync(prefix, cancel))
        {
            Assert.Fail($"blob {left.Name} was written after its line was deleted");
        }
        Assert.Empty(await NamesAsync(linePins));
        Assert.NotEmpty(await NamesAsync(FeatureCachePins.OwnerPrefix(FeatureCachePins.JobOwner(jobId))));

        // The name made again is a new line: none of the deleted line's decisions are in its log.
        await CreateAsync(Client, name, jobId);
        var log = await Client.GetStringAsync($"/lines/{name}/decisions", cancel);
        Assert.DoesNotContain("good_", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACreationThatLosesTheRaceForANewLineLeavesTheWinnersPins()
    {
        var cancel = TestContext.Current.CancellationToken;
        var jobId = await CompletedJobAsync(Client, seed: 47, new JobOptions { Clusters = 2, Seed = 3 }, perClass: 3);
        var name = "raced-" + Guid.NewGuid().ToString("N")[..8];
        var prefix = $"lines/_/{name}/";
        var firstCatalog = LineCatalogStore.CatalogBlob(prefix, 1);
        // Two first creations of the line: one is held at its catalog write (its pins written), the other's write of the
        // same version then fails (the store away) while the line has no catalog yet; then the first one's write lands.
        server.Store.HoldWrites(firstCatalog);
        try
        {
            var winner = Client.PostAsJsonAsync("/lines", new { name, fromJob = jobId }, cancel);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!server.Store.IsWriteWaiting(firstCatalog))
            {
                Assert.False(winner.IsCompleted, "the first creation ended before its catalog write");
                Assert.True(DateTime.UtcNow < deadline, "the first creation did not reach its catalog write in 2 minutes");
                await Task.Delay(20, cancel);
            }
            server.Store.FailWrites(firstCatalog);
            using (var lost = await Client.PostAsJsonAsync("/lines", new { name, fromJob = jobId }, cancel))
            {
                Assert.False(lost.IsSuccessStatusCode, await lost.Content.ReadAsStringAsync(cancel));
            }
            server.Store.FailWrites(firstCatalog, failing: false);
            server.Store.ReleaseWrites(firstCatalog);
            using var won = await winner;
            Assert.Equal(HttpStatusCode.Created, won.StatusCode);
        }
        finally
        {
            server.Store.FailWrites(firstCatalog, failing: false);
            server.Store.ReleaseWrites(firstCatalog);
        }

        // The line that was made keeps its bags pinned, by owner and in the index by entry.
        Assert.NotEmpty(await NamesAsync(FeatureCachePins.OwnerPrefix(prefix)));
        Assert.Contains(await NamesAsync(FeatureCachePins.IndexPrefix), pin => pin.Contains("/" + prefix, StringComparison.Ordinal));
        // And its deletion removes them all, the index's too.
        using (var deleted = await Client.DeleteAsync($"/lines/{name}", cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        Assert.Empty(await NamesAsync(FeatureCachePins.OwnerPrefix(prefix)));
        Assert.DoesNotContain(await NamesAsync(FeatureCachePins.IndexPrefix), pin => pin.Contains("/" + prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeletingANameThatHoldsOnlyUnknownLineErrorsDeletesThem()
    {
        // What intake messages for a line that does not exist leave under its name: before, DELETE answered 404 and the
        // blobs stayed for good.
        var cancel = TestContext.Current.CancellationToken;
        var name = "never-made-" + Guid.NewGuid().ToString("N")[..8];
        var prefix = $"lines/_/{name}/";
        await server.Store.PutAsync(LineBlobNames.DecisionOf(prefix, "early-image"), new MemoryStream("{}"u8.ToArray()), cancellationToken: cancel);

        using (var deleted = await Client.DeleteAsync($"/lines/{name}", cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        Assert.Empty(await NamesAsync(prefix));
        await JobApiTests.ProblemAsync(await Client.DeleteAsync($"/lines/{name}", cancel), HttpStatusCode.NotFound, name);
    }

    [Fact]
    public async Task TheCliMakesAndShowsALineOnTheServerFromItsJob()
    {
        var jobId = await CompletedJobAsync(Client, seed: 43, new JobOptions { Clusters = 2, Seed = 3 }, perClass: 3);
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];
        string[] remote = ["--server", server.BaseAddress.ToString(), "--token", server.AdminToken];

        var created = CliRun.InProcess(["line", "create", name, "--from-job", jobId, "--margin", "0.2", "--recluster-every", "7", .. remote]);
        Assert.True(created.ExitCode == 0, created.Error + created.Output);
        Assert.Contains($"line {name} version 1: 2 defect types from job {jobId} on the server", created.Output);
        Assert.Contains("reclustered every 7 novel images", created.Output);
        var again = CliRun.InProcess(["line", "create", name, "--from-job", jobId, .. remote]);
        Assert.True(again.ExitCode == 0, again.Error + again.Output);
        Assert.Contains("version 2:", again.Output);
        var shown = (await Client.GetFromJsonAsync<LineView>($"/lines/{name}?version=1", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(1, shown.Version);
        Assert.Equal(0.2, shown.Margin);
        Assert.Equal(jobId, shown.SourceJob);

        var first = CliRun.InProcess(["line", "show", name, "--version", "1", .. remote]);
        Assert.True(first.ExitCode == 0, first.Error + first.Output);
        Assert.Contains($"line {name}, version 1 (versions 1, 2)", first.Output);
        Assert.Contains("margin 0.2", first.Output);
        foreach (var type in shown.Clusters)
        {
            Assert.Contains(type.Name, first.Output);
        }
        var newest = CliRun.InProcess(["line", "show", name, .. remote]);
        Assert.Contains("version 2 (versions 1, 2)", newest.Output);

        CliRun.InProcess(["line", "show", name, "--version", "9", .. remote]).AssertOneLineError(CliExitCodes.InputError, "no version 9");
        CliRun.InProcess(["line", "create", name, "--from-job", "no-such-job", .. remote]).AssertOneLineError(CliExitCodes.InputError, "no-such-job");
        CliRun.InProcess(["line", "create", name, "--from-job", jobId]).AssertOneLineError(CliExitCodes.InputError, "--server");
        CliRun.InProcess(["line", "create", name, "--from-result", "somewhere", .. remote]).AssertOneLineError(CliExitCodes.InputError, "--from-job");
        CliRun.InProcess(["line", "create", name]).AssertOneLineError(CliExitCodes.InputError, "--from-result");
        using var missing = await Client.GetAsync($"/lines/{name}?version=9", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task AJobThatHasNotCompletedMakesNoLine()
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 2, seed: 61);
        var prefix = $"datasets/lines-{Guid.NewGuid():N}/";
        foreach (var path in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder.Path, path).Replace('\\', '/');
            relative = relative.StartsWith("hole/", StringComparison.Ordinal) ? "hole/" + GatedBlobStore.GateMarker + relative[5..] : relative;
            await using var file = File.OpenRead(path);
            await server.Store.PutAsync(prefix + relative, file, cancellationToken: TestContext.Current.CancellationToken);
        }
        using var submitted = await Client.PostAsJsonAsync("/jobs", new { prefix, options = ApiDatasets.Small }, SiloServer.Json, TestContext.Current.CancellationToken);
        var status = (await submitted.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        try
        {
            var problem = await JobApiTests.ProblemAsync(await Client.PostAsJsonAsync("/lines", new { name = "held", fromJob = status.JobId }, TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "completed");
            Assert.NotEqual("completed", problem.GetProperty("state").GetString());
        }
        finally
        {
            server.Store.Release(prefix);
        }
        await server.WaitAsync(status.JobId);
    }

    private static async Task<string> CompletedJobAsync(HttpClient client, int seed, JobOptions options, int perClass)
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass, seed);
        using var form = ApiDatasets.UploadForm(folder.Path, options);
        using var response = await client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.JobId;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var status = (await client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, TestContext.Current.CancellationToken))!;
            if (status.IsFinished)
            {
                Assert.True(status.State == JobState.Completed, status.Error);
                return jobId;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    internal static async Task<LineView> CreateAsync(HttpClient client, string name, string jobId)
    {
        using var response = await client.PostAsJsonAsync("/lines", new { name, fromJob = jobId }, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return System.Text.Json.JsonSerializer.Deserialize<LineView>(text, SiloServer.Json)!;
    }

    internal static async Task<LineImagesResponse> PostImagesAsync(HttpClient client, string name, IReadOnlyList<string> paths)
    {
        using var form = Form([.. paths.Select(path => (Path.GetFileName(path), File.ReadAllBytes(path)))]);
        using var response = await client.PostAsync($"/lines/{name}/images", form, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return System.Text.Json.JsonSerializer.Deserialize<LineImagesResponse>(text, SiloServer.Json)!;
    }

    private async Task<List<string>> NamesAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in server.Store.ListAsync(prefix, TestContext.Current.CancellationToken))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    private static List<(string Name, byte[] Bytes)> ImageFiles(int count, int seed) =>
        [.. Enumerable.Range(0, count).Select(i => ($"good_{i}.png", SyntheticSurfacePainter.PaintPng(DefectType.Good, new Random(seed * 1000 + i))))];

    private static MultipartFormDataContent Form(IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (fileName, bytes) in files)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(content, "images", fileName);
        }
        return form;
    }

    private static byte[] GreyPng()
    {
        using var bitmap = new SKBitmap(256, 256);
        bitmap.Erase(new SKColor(128, 128, 128));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
