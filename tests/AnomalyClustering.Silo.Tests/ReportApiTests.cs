using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Testing.Browser;

[assembly: AssemblyFixture(typeof(ChromiumFixture))]

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The report as the API serves it, and cluster names: named through the API or typed into the served page in Chromium,
/// kept with the job and shown by later results, cluster summaries and reports.
/// </summary>
public sealed class ReportApiTests(SiloServer server, ChromiumFixture chromium)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task TheServedReportShowsTheJobAndNamesAreKeptWithTheJob()
    {
        var jobId = await CompletedJobAsync();
        using var report = await Client.GetAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal("text/html", report.Content.Headers.ContentType?.MediaType);
        var html = await report.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("<svg", html);
        Assert.Equal(2, html.Split("<article class=\"cluster\"").Length - 1);
        Assert.Contains(jobId, html);

        using var named = await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/1/name", new ClusterNameRequest("  hole  "), SiloServer.Json, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        var names = (await named.Content.ReadFromJsonAsync<JobClusterNames>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal("hole", names.Names[1]);

        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal("hole", clusters.Clusters.Single(c => c.Cluster == 1).Name);
        Assert.Null(clusters.Clusters.Single(c => c.Cluster == 0).Name);
        using (var result = await Client.GetAsync($"/jobs/{jobId}/result", TestContext.Current.CancellationToken))
        {
            var summary = ResultSummary.Read(await result.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
            Assert.Equal("hole", summary.Names.NameOf(1));
            Assert.Equal("hole", summary.Clusters[1].Name);
        }
        Assert.Contains(">hole<", await Client.GetStringAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken));

        // A body without the name (empty, '{}', a misspelt member) is refused and removes nothing: before, each answered 200
        // and removed the name.
        foreach (var (body, reason) in new[] { ("", "not a valid request"), ("{}", "name"), ("{\"Name2\": \"x\"}", "Name2") })
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            await JobApiTests.ProblemAsync(await Client.PutAsync($"/jobs/{jobId}/clusters/1/name", content, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, reason);
        }
        Assert.Equal("hole", (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!
            .Clusters.Single(c => c.Cluster == 1).Name);

        // An empty name removes it.
        using var removed = await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/1/name", new ClusterNameRequest(""), SiloServer.Json, TestContext.Current.CancellationToken);
        Assert.Empty((await removed.Content.ReadFromJsonAsync<JobClusterNames>(SiloServer.Json, TestContext.Current.CancellationToken))!.Names);
    }

    [Fact]
    public async Task BadNamesAndUnknownClustersJobsAndThumbnailsAreRefused()
    {
        var jobId = await CompletedJobAsync();
        await JobApiTests.ProblemAsync(await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/7/name", new ClusterNameRequest("crack"), SiloServer.Json, TestContext.Current.CancellationToken),
            HttpStatusCode.BadRequest, "there is no cluster 7");
        await JobApiTests.ProblemAsync(await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/0/name", new ClusterNameRequest(new string('x', ClusterNames.MaxNameLength + 1)), SiloServer.Json, TestContext.Current.CancellationToken),
            HttpStatusCode.BadRequest, ClusterNames.MaxNameLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await JobApiTests.ProblemAsync(await Client.PutAsJsonAsync($"/jobs/{jobId}/clusters/0/name", new ClusterNameRequest("two\nlines"), SiloServer.Json, TestContext.Current.CancellationToken),
            HttpStatusCode.BadRequest, "line");
        await JobApiTests.ProblemAsync(await Client.PutAsJsonAsync("/jobs/no-such-job/clusters/0/name", new ClusterNameRequest("crack"), SiloServer.Json, TestContext.Current.CancellationToken),
            HttpStatusCode.NotFound, "no-such-job");
        await JobApiTests.ProblemAsync(await Client.GetAsync("/jobs/no-such-job/report", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no-such-job");
        await JobApiTests.ProblemAsync(await Client.GetAsync("/thumbnails/..%2Fjobs", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "thumbnail");
        await JobApiTests.ProblemAsync(await Client.GetAsync("/thumbnails/0123abcd-160.jpg", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "thumbnail");
        // Longer than any key: refused as unknown before the store, whose own refusal of a long name was a 500.
        await JobApiTests.ProblemAsync(await Client.GetAsync("/thumbnails/" + new string('a', 256), TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "thumbnail");
    }

    [Fact]
    public async Task ANameTypedIntoTheServedReportInChromiumIsSavedWithTheJob()
    {
        var jobId = await CompletedJobAsync();
        await using var page = await chromium.OpenAsync(new Uri(server.BaseAddress, $"/jobs/{jobId}/report").AbsoluteUri, server.AdminToken);

        // Thumbnails of a served report come from the API's blob-backed cache.
        var loaded = await page.LoadAllImagesAsync(".gallery img");
        Assert.True(loaded >= 6, $"{loaded} gallery images loaded");
        var input = page.Page.Locator(".name-input[data-cluster='0']");
        await input.FillAsync("crack");
        await input.PressAsync("Enter");
        await page.Page.WaitForFunctionAsync("() => document.querySelector(\".cluster-name[data-name-of='0']\").textContent.includes('crack')");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string? saved = null;
        while (saved is null && DateTime.UtcNow < deadline)
        {
            var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
            saved = clusters.Clusters.Single(c => c.Cluster == 0).Name;
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.Equal("crack", saved);
        Assert.True(page.Errors.Count == 0, string.Join("\n", page.Errors));
        await page.ScreenshotAsync("served-report.png");
    }

    [Fact]
    public async Task AServedGalleryFetchesTheImagesItDoesNotEmbedFromTheApi()
    {
        var jobId = await CompletedJobAsync();
        // One image of each cluster embedded: the rest of each gallery's first page comes from the cluster pages and the
        // per-image thumbnail route, as past the 240 embedded images of a large job.
        await using var page = await chromium.OpenAsync(new Uri(server.BaseAddress, $"/jobs/{jobId}/report?galleryImages=1").AbsoluteUri, server.AdminToken);
        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        var paged = clusters.Clusters.Where(c => c.Size > 1).ToArray();
        Assert.NotEmpty(paged);
        foreach (var cluster in paged)
        {
            var members = (await Client.GetFromJsonAsync<ClusterImagePage>(
                $"/jobs/{jobId}/clusters/{cluster.Cluster}/images?limit=1000", SiloServer.Json, TestContext.Current.CancellationToken))!.Images.Select(i => i.Id).ToArray();
            var gallery = $".gallery[data-cluster='{cluster.Cluster}']";
            await page.Page.WaitForFunctionAsync(
                $"() => !document.querySelector(\"{gallery}\").classList.contains('loading') && document.querySelectorAll(\"{gallery} figure\").length > 1",
                options: new() { Timeout = 120_000 });
            var shown = await page.Page.EvaluateAsync<string[]>($"() => [...document.querySelectorAll(\"{gallery} figure\")].map(f => f.title.split('\\n')[0])");
            Assert.Equal(members.Order(StringComparer.Ordinal), shown.Order(StringComparer.Ordinal));
        }
        // The fetched images' thumbnails and heat maps come from GET /jobs/{id}/thumbnail, and every picture loads.
        var fetched = paged.Sum(c => c.Size - 1);
        Assert.Equal(fetched, await page.Page.EvaluateAsync<int>("() => document.querySelectorAll(\".gallery img.plain[src*='/thumbnail?image=']\").length"));
        Assert.Equal(fetched, await page.Page.EvaluateAsync<int>("() => document.querySelectorAll(\".gallery img.heat[src*='heat=true']\").length"));
        var pictures = await page.Page.EvaluateAsync<int>("() => document.querySelectorAll('.gallery img').length");
        Assert.Equal(pictures, await page.LoadAllImagesAsync(".gallery img"));
        Assert.True(page.Errors.Count == 0, string.Join("\n", page.Errors));

        await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}/report?galleryImages=0", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "galleryImages");
        await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}/thumbnail", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "image");
        await JobApiTests.ProblemAsync(await Client.GetAsync($"/jobs/{jobId}/thumbnail?image=no-such.png", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no-such.png");
        using var heat = await Client.GetAsync($"/jobs/{jobId}/thumbnail?image={Uri.EscapeDataString(clusters.Clusters[0].CentreImage!)}&heat=true", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, heat.StatusCode);
        Assert.Equal("image/jpeg", heat.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ASecondRenderOfTheServedGalleryReadsNoImage()
    {
        // Images no other test uploads, so that their thumbnails are not cached yet when this job's first report renders.
        var jobId = await CompletedJobAsync(seed: 9_101);
        var status = (await Client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        var images = status.Source!;
        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{jobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        var centre = Uri.EscapeDataString(clusters.Clusters[0].CentreImage!);
        var readsBefore = server.Store.ReadsUnder(images);

        async Task<string> RenderAsync()
        {
            var html = await Client.GetStringAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken);
            foreach (var heat in new[] { "false", "true" })
            {
                using var thumbnail = await Client.GetAsync($"/jobs/{jobId}/thumbnail?image={centre}&heat={heat}", TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            }
            return html;
        }

        var first = await RenderAsync();
        var readsByFirst = server.Store.ReadsUnder(images) - readsBefore;
        var second = await RenderAsync();

        // The first render read the images to make their thumbnails; the second found them by the hash the job recorded.
        Assert.True(readsByFirst >= 6, $"the first render read {readsByFirst} image blobs");
        Assert.Equal(readsBefore + readsByFirst, server.Store.ReadsUnder(images));
        Assert.Equal(first, second);
        Assert.True(second.Split("data:image/jpeg;base64,").Length - 1 >= 6, "the page embeds a thumbnail of each of the 6 images");
        Assert.DoesNotContain("image file not found", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServedReportReadsItsResultsSummaryAndDigestButNoPerImageFile()
    {
        var jobId = await CompletedJobAsync(seed: 9_201);
        var folder = JobResultFiles.Folder(jobId);
        string[] perImage = [ResultFolder.ImagesFileName, ResultFolder.ErrorsFileName, ResultFolder.LinkageFileName, ResultFolder.EmbeddingsFileName, ResultFolder.AlphaFileName];
        var before = perImage.ToDictionary(name => name, name => server.Store.ReadsUnder(folder + name));
        var digestReads = server.Store.ReadsUnder(folder + ReportDigest.FileName);

        var html = await Client.GetStringAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken);

        // O(K x M + top of the tree) bytes: result.json and report-digest.json, never a file with a row per image.
        Assert.All(perImage, name => Assert.Equal(before[name], server.Store.ReadsUnder(folder + name)));
        Assert.Equal(digestReads + 1, server.Store.ReadsUnder(folder + ReportDigest.FileName));
        // Still the whole page: both galleries with their thumbnails, the score histogram, the dendrogram, and (the digest
        // of a small job holds every image and the whole tree) the re-cut control with the linkage it cuts.
        Assert.Equal(2, html.Split("<article class=\"cluster\"").Length - 1);
        Assert.True(html.Split("data:image/jpeg;base64,").Length - 1 >= 6, "the page embeds a thumbnail of each of the 6 images");
        Assert.Contains("id=\"score-histogram\"", html, StringComparison.Ordinal);
        Assert.Contains("<section id=\"dendrogram\">", html, StringComparison.Ordinal);
        Assert.Contains("id=\"recut-k\"", html, StringComparison.Ordinal);
        Assert.Contains("\"linkage\":[[", html, StringComparison.Ordinal);
        Assert.Contains("6 images in 2 clusters", html, StringComparison.Ordinal);

        // A client gets the digest like the other result files.
        await using var digest = await Client.GetStreamAsync($"/jobs/{jobId}/result/files/{ReportDigest.FileName}", TestContext.Current.CancellationToken);
        var read = ReportDigest.Read(digest);
        Assert.Equal(6, read.ImageCount);
        Assert.Equal(6, read.Rows.Count);
    }

    [Fact]
    public async Task AResultWrittenBeforeReportDigestsStillRendersFromItsWholeFiles()
    {
        var jobId = await CompletedJobAsync(seed: 9_301);
        var folder = JobResultFiles.Folder(jobId);
        var digestPage = await Client.GetStringAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken);
        Assert.True(await server.Store.DeleteAsync(folder + ReportDigest.FileName, TestContext.Current.CancellationToken));
        var imagesRead = server.Store.ReadsUnder(folder + ResultFolder.ImagesFileName);

        using var response = await Client.GetAsync($"/jobs/{jobId}/report", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(imagesRead + 1, server.Store.ReadsUnder(folder + ResultFolder.ImagesFileName));
        Assert.Equal(2, html.Split("<article class=\"cluster\"").Length - 1);
        Assert.Contains("id=\"recut-k\"", html, StringComparison.Ordinal);
        Assert.Contains("6 images in 2 clusters", html, StringComparison.Ordinal);
        // The same clusters and histogram as the digest's page (a small job's whole read also orders by medoid).
        Assert.Equal(Section(digestPage, "anomaly-scores"), Section(html, "anomaly-scores"));
        Assert.Equal(Section(digestPage, "dendrogram"), Section(html, "dendrogram"));
    }

    private static string Section(string html, string id)
    {
        var start = html.IndexOf($"<section id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {id}");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task TheServedReportIgnoresTheHostHeaderAndCarriesAContentSecurityPolicy()
    {
        var jobId = await CompletedJobAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{jobId}/report");
        request.Headers.Host = "attacker.example:8443";
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("attacker.example", page, StringComparison.Ordinal);
        var policy = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'sha256-", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal(Reports.ClusterReport.ContentSecurityPolicy, policy);
    }

    private async Task<string> CompletedJobAsync(int seed = 11)
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, seed: seed);
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
        using var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        var done = await server.WaitAsync(accepted.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        return accepted.JobId;
    }
}
