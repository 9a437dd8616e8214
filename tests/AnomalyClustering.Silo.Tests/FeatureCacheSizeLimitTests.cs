using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using SkiaSharp;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The feature cache honours a job's image size limit: a 400 x 400 image whose patch bag a job with a larger limit cached is
/// refused as too large by a later job with a smaller one, while the images within both limits come from the cache.
/// </summary>
public sealed class FeatureCacheSizeLimitTests
{
    [Fact]
    public async Task AnImageOverTheLimitIsRefusedEvenWhenALargerLimitCachedIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var tokens = new TestTokens();
        await using var silo = await StandaloneSilo.StartAsync(tokens, new Dictionary<string, string?>());
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 3, seed: 43);
        folder.Write(GreyPng(400, 400), "hole", "large.png");
        using var client = silo.AdminClient();

        var first = await RunAsync(client, folder.Path, ApiDatasets.Small with { MaxImageDimension = 512, CacheFeatures = true }, cancel);
        Assert.Equal(0, first.FailedImages);

        var second = await RunAsync(client, folder.Path, ApiDatasets.Small with { MaxImageDimension = 300, CacheFeatures = true }, cancel);
        var failure = Assert.Single((await client.GetFromJsonAsync<ImageFailure[]>($"/jobs/{second.JobId}/errors", SiloServer.Json, cancel))!);
        Assert.Equal("hole/large.png", failure.Id);
        Assert.Equal("too-large", failure.Reason);
        Assert.Contains("a side of 400 is over the limit of 300 pixels", failure.Message, StringComparison.Ordinal);
        // The cache was there to be used: the six 256 x 256 images came from it (an administrator sees the hits).
        Assert.True(second.CacheHits >= 6, $"{second.CacheHits} cache hits");
    }

    private static async Task<JobStatus> RunAsync(HttpClient client, string folder, JobOptions options, CancellationToken cancel)
    {
        using var form = ApiDatasets.UploadForm(folder, options);
        using var response = await client.PostAsync("/jobs/upload", form, cancel);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, cancel))!.JobId;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        JobStatus status;
        while (!(status = (await client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, cancel))!).IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in 5 minutes: {status.State}");
            await Task.Delay(100, cancel);
        }
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.Equal(7, status.TotalImages);
        return status;
    }

    private static byte[] GreyPng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(120, 124, 130));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
