using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>The job API against a real in-process silo: uploads, prefix jobs, results, and every refusal as ProblemDetails.</summary>
public sealed class JobApiTests(SiloServer server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task UploadedClassFoldersAreClusteredAndACorruptImageIsListed()
    {
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        folder.Write([.. "this is not a picture"u8], "hole", "broken.png");
        folder.WriteText("not an image", "notes.txt");
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);

        using var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal($"/jobs/{accepted.JobId}", response.Headers.Location?.OriginalString);
        Assert.Equal(7, accepted.TotalImages);
        var done = await server.WaitAsync(accepted.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal(1, done.FailedImages);
        Assert.Equal(2, done.ClusterCount);
        Assert.Equal(JobBlobNamesFor(accepted.JobId), done.Source);

        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{accepted.JobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(6, clusters.ImageCount);
        Assert.Equal(2, clusters.ClusterCount);
        Assert.Equal(["good", "hole"], clusters.Classes);
        Assert.NotNull(clusters.Metrics);
        Assert.Equal([0, 1], clusters.Clusters.Select(c => c.Cluster));
        var document = await server.DownloadResultAsync(accepted.JobId);
        var members = document.Images.Select(i => i.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Directory.GetFiles(folder.Path, "*_*.png", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder.Path, p)).Order(StringComparer.Ordinal), members);
        Assert.All(clusters.Clusters, c => Assert.Equal(c.Size, c.Labels.Values.Sum()));
        Assert.Equal(1, clusters.FailedImages);

        var errors = (await Client.GetFromJsonAsync<ImageFailure[]>($"/jobs/{accepted.JobId}/errors", SiloServer.Json, TestContext.Current.CancellationToken))!;
        var error = Assert.Single(errors);
        Assert.Equal("hole/broken.png", error.Id);
        Assert.Equal("not-an-image", error.Reason);
        Assert.Equal($"uploads/{accepted.JobId}/images/hole/broken.png", error.BlobName);

        using var result = await Client.GetAsync($"/jobs/{accepted.JobId}/result", TestContext.Current.CancellationToken);
        Assert.Equal("application/json", result.Content.Headers.ContentType?.MediaType);
        var summary = ResultSummary.Read(await result.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        Assert.Equal(clusters.Clusters.Select(c => c.Size), summary.Clusters.Select(c => c.Size));
        Assert.All(clusters.Clusters, c => Assert.Equal(document.Images.Count(i => i.Cluster == c.Cluster), c.Size));
        Assert.Equal(clusters.Metrics!.Nmi, document.Scores!.NormalizedMutualInformation, 12);
        Assert.Equal("hole/broken.png", Assert.Single(document.Errors).Id);
    }

    [Fact]
    public async Task AClassOfOnlyCorruptImagesIsAWarningOfTheJobItsResultAndItsReport()
    {
        // K from the labels is the number of classes with a usable image: a job once clustered into 2 of 3 classes unsaid.
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        folder.Write([.. "this is not a picture"u8], "scratch", "broken.png");
        folder.Write([.. "nor is this"u8], "scratch", "torn.png");
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);

        using var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Empty(accepted.Warnings);
        var done = await server.WaitAsync(accepted.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal(2, done.ClusterCount);
        var warning = Assert.Single(done.Warnings);
        Assert.Equal("class-without-images", warning.Code);
        Assert.Equal(
            "class 'scratch' (2 files) has no image that could be used (every file is left out, listed below), so K, the number of classes with an image, is 2 instead of 3; -k 3 keeps 3 clusters.",
            warning.Message);

        using var result = await Client.GetAsync($"/jobs/{accepted.JobId}/result", TestContext.Current.CancellationToken);
        var summary = ResultSummary.Read(await result.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        Assert.Equal([new ResultWarning(warning.Code, warning.Message)], summary.Warnings);
        var report = await Client.GetStringAsync($"/jobs/{accepted.JobId}/report", TestContext.Current.CancellationToken);
        Assert.Contains("data-code=\"class-without-images\"", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrefixJobFindsTheMvtecLayoutAndItsNormalImages()
    {
        var prefix = $"datasets/mvtec-{Guid.NewGuid():N}/";
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("test", "good"), DefectType.Good, 3, seed: 21);
        SyntheticImages.Write(folder.Combine("test", "hole"), DefectType.Hole, 3, seed: 22);
        SyntheticImages.Write(folder.Combine("test", "combined"), DefectType.Crack, 1, seed: 23);
        SyntheticImages.Write(folder.Combine("train", "good"), DefectType.Good, 3, seed: 24);
        SyntheticImages.Write(folder.Combine("ground_truth", "hole"), DefectType.Good, 1, seed: 25);
        foreach (var path in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories))
        {
            await using var file = File.OpenRead(path);
            await server.Store.PutAsync(prefix + Path.GetRelativePath(folder.Path, path), file, cancellationToken: TestContext.Current.CancellationToken);
        }

        var status = await SubmitAsync(new { prefix = prefix.TrimEnd('/'), options = ApiDatasets.Small with { Mode = "semi-supervised" } });

        Assert.Equal(6, status.TotalImages);
        var done = await server.WaitAsync(status.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal(3, done.TotalNormalImages);
        Assert.Equal(0, done.FailedImages);
        var clusters = (await Client.GetFromJsonAsync<JobClusters>($"/jobs/{status.JobId}/clusters", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(["good", "hole"], clusters.Classes);
        Assert.All((await server.DownloadResultAsync(status.JobId)).Images, image => Assert.Matches("^test/(good|hole)/", image.Id));
    }

    [Fact]
    public async Task ANormalPrefixGivesTheNormalImagesOfAFlatDataset()
    {
        var root = $"datasets/flat-{Guid.NewGuid():N}/";
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 71);
        SyntheticImages.Write(folder.Combine("images"), DefectType.Scratch, 2, seed: 72);
        SyntheticImages.Write(folder.Combine("normals"), DefectType.Good, 2, seed: 73);
        foreach (var path in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories))
        {
            await using var file = File.OpenRead(path);
            await server.Store.PutAsync(root + Path.GetRelativePath(folder.Path, path), file, cancellationToken: TestContext.Current.CancellationToken);
        }
        var options = ApiDatasets.Small with { Mode = "semi-supervised", Clusters = 2 };

        using var empty = await Client.PostAsJsonAsync("/jobs", new { prefix = root + "images/", normalPrefix = root + "nothing/", options }, SiloServer.Json, TestContext.Current.CancellationToken);
        await ProblemAsync(empty, HttpStatusCode.BadRequest, $"normal prefix '{root}nothing/' holds no images");
        var status = await SubmitAsync(new { prefix = root + "images/", normalPrefix = root + "normals", options });

        var done = await server.WaitAsync(status.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal(4, done.TotalImages);
        Assert.Equal(2, done.TotalNormalImages);
        Assert.Equal(2, done.ClusterCount);
    }

    [Fact]
    public async Task SubmittingAnExistingJobIdReturnsThatJobAndTheListHasIt()
    {
        var prefix = await PutClassFoldersAsync();
        var jobId = $"idempotent-{Guid.NewGuid():N}";
        var first = await SubmitAsync(new { jobId, prefix, options = ApiDatasets.Small });

        using var again = await Client.PostAsJsonAsync("/jobs", new { jobId, prefix = "some/other/prefix/", options = ApiDatasets.Small }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = (await again.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal(prefix, second.Source);
        var listed = (await Client.GetFromJsonAsync<JobStatus[]>("/jobs?limit=1000", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Contains(listed, job => job.JobId == jobId);
        Assert.Equal(listed.Select(j => j.CreatedAt).OrderDescending(), listed.Select(j => j.CreatedAt));
        Assert.Equal(JobState.Completed, (await server.WaitAsync(jobId)).State);

        // Pages: the job on the page that starts at its place (jobs other tests submit meanwhile are newer, so they can
        // only move it later), as the registry recorded its completion; a page holds at most `limit` jobs.
        var all = (await Client.GetFromJsonAsync<JobStatus[]>("/jobs?limit=1000", SiloServer.Json, TestContext.Current.CancellationToken))!;
        var place = Array.FindIndex(all, job => job.JobId == jobId);
        var page = (await Client.GetFromJsonAsync<JobStatus[]>($"/jobs?limit=20&offset={place}", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(JobState.Completed, Assert.Single(page, job => job.JobId == jobId).State);
        Assert.True(page.Length <= 20);
    }

    [Fact]
    public async Task ResultBeforeCompletionIsAConflictAndCancelStopsTheJob()
    {
        var prefix = await PutClassFoldersAsync(gateOne: true);
        var status = await SubmitAsync(new { prefix, options = ApiDatasets.Small });
        try
        {
            await WaitUntilAsync(() => server.Store.IsWaiting(prefix));

            var running = await ProblemAsync(await Client.GetAsync($"/jobs/{status.JobId}/result", TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "its result exists once it is completed");
            Assert.Equal("embedding", running.GetProperty("state").GetString());
            await ProblemAsync(await Client.GetAsync($"/jobs/{status.JobId}/clusters", TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "embedding");

            using var cancel = await Client.PostAsync($"/jobs/{status.JobId}/cancel", null, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal(JobState.Cancelled, (await cancel.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.State);
            Assert.Equal(JobState.Cancelled, (await Client.GetFromJsonAsync<JobStatus>($"/jobs/{status.JobId}", SiloServer.Json, TestContext.Current.CancellationToken))!.State);
            await ProblemAsync(await Client.GetAsync($"/jobs/{status.JobId}/result", TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "was cancelled");
        }
        finally
        {
            server.Store.Release(prefix);
        }
        // Once the held image is let go, the cancelled job stays cancelled.
        Assert.Equal(JobState.Cancelled, (await server.WaitAsync(status.JobId)).State);
    }

    [Fact]
    public async Task ACancelledJobIsRetriedFromItsManifestAndACompletedOneStaysAsItIs()
    {
        var prefix = await PutClassFoldersAsync(gateOne: true);
        var status = await SubmitAsync(new { prefix, options = ApiDatasets.Small });
        try
        {
            await WaitUntilAsync(() => server.Store.IsWaiting(prefix));
            using var cancel = await Client.PostAsync($"/jobs/{status.JobId}/cancel", null, TestContext.Current.CancellationToken);
            Assert.Equal(JobState.Cancelled, (await cancel.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.State);
        }
        finally
        {
            server.Store.Release(prefix);
        }
        Assert.Equal(JobState.Cancelled, (await server.WaitAsync(status.JobId)).State);

        using var retry = await Client.PostAsync($"/jobs/{status.JobId}/retry", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var retried = (await retry.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.True(retried.State.IsActive(), $"the retried job is {retried.State}");
        Assert.Equal(status.CreatedAt, retried.CreatedAt);
        var done = await server.WaitAsync(status.JobId);
        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal((6, 0), (done.TotalImages, done.FailedImages));

        // A completed job: a retry and a resubmission with the same id both answer it unchanged.
        using var again = await Client.PostAsync($"/jobs/{status.JobId}/retry", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var resubmit = await Client.PostAsJsonAsync("/jobs", new { jobId = status.JobId, prefix, options = ApiDatasets.Small }, SiloServer.Json, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, resubmit.StatusCode);
        var unchanged = (await resubmit.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal((JobState.Completed, done.UpdatedAt), (unchanged.State, unchanged.UpdatedAt));
        await ProblemAsync(await Client.PostAsync("/jobs/no-such-job/retry", null, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no-such-job");
    }

    [Fact]
    public async Task AJobWhoseImagesAreAllBrokenFailsWithTheReasonAndHasNoResult()
    {
        using var folder = new TempFolder();
        folder.Write([.. "not a picture"u8], "a.png");
        folder.Write([], "b.jpg");
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small with { Clusters = 2 });
        using var response = await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!.JobId;

        var done = await server.WaitAsync(jobId);

        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("only 0 of 2 images could be used", done.Error);
        Assert.Equal(2, done.FailedImages);
        var problem = await ProblemAsync(await Client.GetAsync($"/jobs/{jobId}/result", TestContext.Current.CancellationToken), HttpStatusCode.Conflict, "only 0 of 2 images");
        Assert.Equal("failed", problem.GetProperty("state").GetString());
        var errors = (await Client.GetFromJsonAsync<ImageFailure[]>($"/jobs/{jobId}/errors", SiloServer.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(["a.png", "b.jpg"], errors.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task UnknownJobsAre404()
    {
        foreach (var path in new[] { "/jobs/no-such-job", "/jobs/no-such-job/result", "/jobs/no-such-job/clusters", "/jobs/no-such-job/errors" })
        {
            await ProblemAsync(await Client.GetAsync(path, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "there is no job 'no-such-job'");
        }
        await ProblemAsync(await Client.PostAsync("/jobs/no-such-job/cancel", null, TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no-such-job");
        await ProblemAsync(await Client.GetAsync("/jobs/bad%20id", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "is not allowed");
    }

    [Theory]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"tau\": -1}}", "tau")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"mode\": \"magic\"}}", "magic")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"clusters\": 2, \"distanceThreshold\": 1}}", "not both")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"clustrs\": 2}}", "clustrs")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"tau\": \"warm\"}}", "tau")]
    [InlineData("{\"options\": {}}", "prefix")]
    [InlineData("{\"prefix\": \"x/\",", "is not a valid request")]
    [InlineData("null", "null")]
    [InlineData("{\"prefix\": \"../up/\"}", "'..'")]
    [InlineData("{\"prefix\": \"x/\", \"jobId\": \"a/b\"}", "job id 'a/b' is not allowed")]
    [InlineData("{\"prefix\": \"x/\", \"backbone\": \"resnet-9000\"}", "unknown backbone 'resnet-9000'; this server has: builtin")]
    [InlineData("{\"prefix\": \"nothing-here/\"}", "no blobs found under prefix 'nothing-here/'")]
    // What System.Text.Json says in .NET terms (System.Int32, System.Nullable`1[System.Boolean], a request type's full
    // name, ".NET member"), said in the caller's.
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"cacheFeatures\": 1}}", "cacheFeatures must be true or false")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"pretrainDimension\": 1e100}}", "pretrainDimension must be a whole number")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"seed\": null}}", "seed must be a whole number")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"neighbourhoodSize\": 3}}", "unknown field 'neighbourhoodSize'")]
    [InlineData("[1, 2, 3]", "the body must be a JSON object")]
    [InlineData("{\"prefix\": \"x/\", \"options\": {\"pretrainDimension\": -1}}", "the pretrain dimension P is -1; it must be at least 1")]
    public async Task BadSubmissionsAre400WithTheReason(string body, string fragment)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var problem = await ProblemAsync(await Client.PostAsync("/jobs", content, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, fragment);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("`", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("AnomalyClustering.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(".NET", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"tau\": -1}", "tau")]
    [InlineData("{\"refs\": -1}", "refs")]
    [InlineData("{\"normalLimit\": -1}", "normalLimit")]
    [InlineData("{\"clusters\": 0}", "clusters")]
    [InlineData("{\"distanceThreshold\": -1}", "distanceThreshold")]
    [InlineData("{\"minClusters\": 9, \"maxClusters\": 3}", "minClusters")]
    [InlineData("{\"maxImageDimension\": 0}", "maxImageDimension")]
    [InlineData("{\"pretrainDimension\": 0}", "pretrainDimension")]
    [InlineData("{\"targetDimension\": 0}", "targetDimension")]
    [InlineData("{\"patchSize\": 4}", "patchSize")]
    [InlineData("{\"mode\": \"unsupervised\", \"detectThenCluster\": true}", "detectThenCluster")]
    [InlineData("{\"mode\": \"semi-supervised\", \"coreset\": 2}", "coreset")]
    [InlineData("{\"clusterCountCriterion\": \"foo\"}", "clusterCountCriterion")]
    public async Task AnInvalidOptionsFieldIsTheOneTheCallerSent(string options, string field)
    {
        using var content = new StringContent($"{{\"prefix\": \"x/\", \"options\": {options}}}", Encoding.UTF8, "application/json");
        var problem = await ProblemAsync(await Client.PostAsync("/jobs", content, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "options: ");
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task JobsTheCoordinatorRefusesAre400AndLeaveNoUpload()
    {
        // No labels and no K: the coordinator cannot know where to cut the tree.
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 31);
        var jobId = $"refused-{Guid.NewGuid():N}";
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small, jobId);

        await ProblemAsync(await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "clusters");

        Assert.Empty(await server.Store.ListAsync($"uploads/{jobId}/", TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
        await ProblemAsync(await Client.GetAsync($"/jobs/{jobId}", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, jobId);
    }

    [Fact]
    public async Task WrongContentTypesAre415()
    {
        using var json = new StringContent("{}", Encoding.UTF8, "application/json");
        await ProblemAsync(await Client.PostAsync("/jobs/upload", json, TestContext.Current.CancellationToken), HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
        using var text = new StringContent("prefix=x", Encoding.UTF8, "text/plain");
        await ProblemAsync(await Client.PostAsync("/jobs", text, TestContext.Current.CancellationToken), HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Fact]
    public async Task ErrorsOutsideTheHandlersAreProblemDetailsToo()
    {
        await ProblemAsync(await Client.GetAsync("/jobs?limit=many", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "malformed");
        await ProblemAsync(await Client.GetAsync("/jobs?limit=0", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "limit is 0");
        await ProblemAsync(await Client.GetAsync("/jobs?offset=-1", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "offset is -1");
        await ProblemAsync(await Client.GetAsync("/nowhere", TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "no such endpoint");
        await ProblemAsync(await Client.DeleteAsync("/jobs", TestContext.Current.CancellationToken), HttpStatusCode.MethodNotAllowed, "not allowed");
    }

    [Theory]
    [InlineData("multipart/form-data", "--b\r\n", "boundary")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\n\r\nabc", "malformed")]
    [InlineData("multipart/form-data; boundary=b", "garbage without any boundary", "malformed")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Type: image/png\r\n\r\nabc\r\n--b--\r\n", "Content-Disposition")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"../a.png\"\r\n\r\nabc\r\n--b--\r\n", "'..'")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"/etc/a.png\"\r\n\r\nabc\r\n--b--\r\n", "'/etc/a.png' cannot be stored")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"colour\"\r\n\r\nred\r\n--b--\r\n", "unknown form field 'colour'")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{\"tau\": -2}\r\n--b--\r\n", "tau")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.txt\"\r\n\r\nabc\r\n--b--\r\n", "holds no image files")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\n\r\nabc\r\n--b\r\nContent-Disposition: form-data; name=\"jobId\"\r\n\r\nlate\r\n--b--\r\n", "before the files")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\n\r\nabc\r\n--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\n\r\nabc\r\n--b--\r\n", "occurs twice")]
    public async Task MalformedUploadsAre400(string contentType, string body, string fragment)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        await ProblemAsync(await Client.PostAsync("/jobs/upload", content, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, fragment);
    }

    [Fact]
    public async Task AFileOverTheLimitIs413AndNamesTheSetting()
    {
        var jobId = $"large-{Guid.NewGuid():N}";
        using var form = new MultipartFormDataContent { { new StringContent(jobId), "jobId" } };
        form.Add(new ByteArrayContent(new byte[SiloServer.MaxUploadFileBytes + 1]), "images", "good/huge.png");

        var problem = await ProblemAsync(await Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken), HttpStatusCode.RequestEntityTooLarge, "MaxUploadFileBytes");

        Assert.Contains("good/huge.png", problem.GetProperty("detail").GetString());
        Assert.Empty(await server.Store.ListAsync($"uploads/{jobId}/", TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnUploadOverTheRequestLimitIs413AndNamesTheSetting(bool declaredLength)
    {
        // With a Content-Length the server refuses before reading; without one (chunked) Kestrel stops it at the limit.
        var jobId = $"huge-{Guid.NewGuid():N}";
        using var form = new MultipartFormDataContent { { new StringContent(jobId), "jobId" } };
        for (var i = 0; i < 4; i++)
        {
            var bytes = new byte[SiloServer.MaxUploadFileBytes - 1024];
            form.Add(declaredLength ? new ByteArrayContent(bytes) : new StreamContent(new UnseekableStream(bytes)), "images", $"good/{i}.png");
        }

        // Expect: 100-continue lets the server's early refusal arrive before the client has sent the body it refuses.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/upload") { Content = form };
        request.Headers.ExpectContinue = true;

        HttpResponseMessage? response = null;
        try
        {
            response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        }
        catch (HttpRequestException e) when (!declaredLength && e.InnerException is IOException)
        {
            // Chunked: the server stops reading at the limit, answers 413 and closes the connection; a client still
            // writing the rest of its body can see the closed connection before it reads the answer (a race of the
            // transport, seen on loaded machines). The refusal itself is checked below: nothing of the upload is kept.
            TestContext.Current.TestOutputHelper?.WriteLine($"the connection closed before the answer was read: {e.InnerException.Message}");
        }
        if (response is not null)
        {
            using (response)
            {
                await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "MaxUploadBytes");
            }
        }

        Assert.Empty(await server.Store.ListAsync($"uploads/{jobId}/", TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheJobEndpoints()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));
        var paths = document.RootElement.GetProperty("paths");
        var operations = paths.EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Path: path.Name, Method: op.Name, Operation: op.Value)))
            .Where(op => op.Operation.ValueKind == JsonValueKind.Object && op.Operation.TryGetProperty("operationId", out _))
            .ToDictionary(op => op.Operation.GetProperty("operationId").GetString()!);

        Assert.Equal(("/jobs", "post"), (operations["SubmitJob"].Path, operations["SubmitJob"].Method));
        Assert.Equal(("/jobs/upload", "post"), (operations["UploadJob"].Path, operations["UploadJob"].Method));
        Assert.Equal(("/jobs", "get"), (operations["ListJobs"].Path, operations["ListJobs"].Method));
        Assert.Equal("/jobs/{jobId}", operations["GetJob"].Path);
        Assert.Equal("/jobs/{jobId}/result", operations["GetJobResult"].Path);
        Assert.Equal("/jobs/{jobId}/clusters", operations["GetJobClusters"].Path);
        Assert.Equal("/jobs/{jobId}/errors", operations["GetJobErrors"].Path);
        Assert.Equal(("/jobs/{jobId}/cancel", "post"), (operations["CancelJob"].Path, operations["CancelJob"].Method));
        var submit = operations["SubmitJob"].Operation;
        Assert.False(string.IsNullOrWhiteSpace(submit.GetProperty("summary").GetString()));
        Assert.True(submit.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(submit.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(submit.GetProperty("responses").TryGetProperty("400", out _));
        Assert.True(operations["UploadJob"].Operation.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.True(operations["GetJobResult"].Operation.GetProperty("responses").TryGetProperty("409", out _));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("JobStatus", out _));
        Assert.True(schemas.TryGetProperty("JobClusters", out _));
    }

    private static string JobBlobNamesFor(string jobId) => $"uploads/{jobId}/images/";

    private async Task<JobStatus> SubmitAsync(object body)
    {
        using var response = await Client.PostAsJsonAsync("/jobs", body, SiloServer.Json, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, TestContext.Current.CancellationToken))!;
    }

    /// <summary>Puts class folders good/ and hole/ (3 images each) under a new prefix; one image's name holds the gate marker when asked.</summary>
    private async Task<string> PutClassFoldersAsync(bool gateOne = false)
    {
        var prefix = $"datasets/classes-{Guid.NewGuid():N}/";
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path);
        foreach (var path in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(folder.Path, path);
            if (gateOne && relative == "hole/hole_002.png")
            {
                relative = $"hole/{GatedBlobStore.GateMarker}hole_002.png";
            }
            await using var file = File.OpenRead(path);
            await server.Store.PutAsync(prefix + relative, file, cancellationToken: TestContext.Current.CancellationToken);
        }
        return prefix;
    }

    /// <summary>Asserts a ProblemDetails answer with the status and a detail containing <paramref name="fragment"/>; returns its JSON.</summary>
    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string fragment)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(text).RootElement.Clone();
            Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.Contains(fragment, detail, StringComparison.OrdinalIgnoreCase);
            return problem;
        }
    }

    /// <summary>A stream of known bytes whose length HttpClient cannot know, so that it sends the request chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true");
            await Task.Delay(20);
        }
    }
}
