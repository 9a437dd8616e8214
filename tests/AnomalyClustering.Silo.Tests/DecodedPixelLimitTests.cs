using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Grains.Workers;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A worker whose in-flight decoded pixels are limited below one image: that image is refused with the limit named (a
/// typed image failure, never an OutOfMemoryException), the images that fit are clustered, and the budget is whole again
/// after the job.
/// </summary>
public sealed class DecodedPixelLimitTests
{
    private const long Budget = 100_000;

    [Fact]
    public async Task AnImageLargerThanTheWorkersPixelBudgetIsRefusedWithTheLimitNamed()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var tokens = new TestTokens();
        await using var silo = await StandaloneSilo.StartAsync(tokens, new Dictionary<string, string?>
        {
            [$"{WorkerOptions.Section}:MaxInFlightDecodedPixels"] = Budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var budget = silo.Services.GetRequiredService<DecodedPixelBudget>();
        Assert.Equal(Budget, budget.Capacity);
        using var folder = new TempFolder();
        // 256 x 256 = 65,536 pixels each: they fit, one at a time.
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 3, seed: 41);
        // 400 x 400 = 160,000 pixels: within every per-image limit, over the worker's budget.
        folder.Write(LargePng(400, 400), "hole", "large.png");

        using var client = silo.AdminClient();
        using var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small);
        using var response = await client.PostAsync("/jobs/upload", form, cancel);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JobStatus>(SiloServer.Json, cancel))!.JobId;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        JobStatus status;
        while (!(status = (await client.GetFromJsonAsync<JobStatus>($"/jobs/{jobId}", SiloServer.Json, cancel))!).IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish in 3 minutes: {status.State}");
            await Task.Delay(100, cancel);
        }

        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.Equal(7, status.TotalImages);
        Assert.Equal(1, status.FailedImages);
        var failure = Assert.Single((await client.GetFromJsonAsync<ImageFailure[]>($"/jobs/{jobId}/errors", SiloServer.Json, cancel))!);
        Assert.Equal("hole/large.png", failure.Id);
        Assert.Equal("too-large", failure.Reason);
        Assert.Contains("160,000 pixels", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"{WorkerOptions.Section}:MaxInFlightDecodedPixels", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, budget.InUse);
    }

    private static byte[] LargePng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(120, 124, 130));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
