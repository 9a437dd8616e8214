using System.Net;
using System.Net.Http.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>Limits a client cannot raise: sizes that set a worker's memory are refused, the image size is capped.</summary>
public sealed class JobOptionLimitsTests(SiloServer server)
{
    [Fact]
    public void SizesAboveTheLimitsAreRefusedWithTheSettingAndTheImageSizeIsCapped()
    {
        var limits = new JobApiOptions();
        var refused = Assert.Throws<ApiProblemException>(() => JobOptionLimits.Apply(new JobOptions { PretrainDimension = 1_000_000_000 }, limits));
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("AnomalyClustering:Api:MaxPretrainDimension", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ApiProblemException>(() => JobOptionLimits.Apply(new JobOptions { TargetDimension = limits.MaxTargetDimension + 1 }, limits));
        Assert.Throws<ApiProblemException>(() => JobOptionLimits.Apply(new JobOptions { Refs = limits.MaxReferenceImages + 1 }, limits));
        var patch = Assert.Throws<ApiProblemException>(() => JobOptionLimits.Apply(new JobOptions { PatchSize = limits.MaxPatchSize + 2 }, limits));
        Assert.Equal("patchSize", patch.Extensions["field"]);
        Assert.Contains("AnomalyClustering:Api:MaxPatchSize", patch.Message, StringComparison.Ordinal);
        var coreset = Assert.Throws<ApiProblemException>(() => JobOptionLimits.Apply(new JobOptions { Coreset = 0.5 }, limits));
        Assert.Equal(400, coreset.StatusCode);
        Assert.Contains("AnomalyClustering:Api:MaxCoresetFraction", coreset.Message, StringComparison.Ordinal);
        Assert.Equal("coreset", coreset.Extensions["field"]);
        var atTheCap = new JobOptions { Coreset = limits.MaxCoresetFraction };
        Assert.Same(atTheCap, JobOptionLimits.Apply(atTheCap, limits));

        Assert.Equal(limits.MaxImageDimension, JobOptionLimits.Apply(new JobOptions { MaxImageDimension = 100_000 }, limits).MaxImageDimension);
        Assert.Equal(512, JobOptionLimits.Apply(new JobOptions { MaxImageDimension = 512 }, limits).MaxImageDimension);
        var within = new JobOptions { PretrainDimension = limits.MaxPretrainDimension, Refs = 0 };
        Assert.Same(within, JobOptionLimits.Apply(within, limits));
    }

    [Theory]
    [InlineData(1.5, "coreset fraction")]
    [InlineData(-0.1, "coreset fraction")]
    [InlineData(0.5, "MaxCoresetFraction")]
    public async Task TheApiRefusesACoresetFractionOutsideZeroToOneOrAboveTheCap(double fraction, string fragment)
    {
        var response = await server.Client.PostAsJsonAsync("/jobs", new { prefix = "nothing-here/", options = new JobOptions { Coreset = fraction } },
            SiloServer.Json, TestContext.Current.CancellationToken);
        await JobApiTests.ProblemAsync(response, HttpStatusCode.BadRequest, fragment);
    }

    [Fact]
    public async Task TheApiRefusesAPretrainDimensionOfABillionForPrefixJobsAndUploads()
    {
        var huge = new JobOptions { PretrainDimension = 1_000_000_000 };
        await JobApiTests.ProblemAsync(
            await server.Client.PostAsJsonAsync("/jobs", new { prefix = "nothing-here/", options = huge }, SiloServer.Json, TestContext.Current.CancellationToken),
            HttpStatusCode.BadRequest, "MaxPretrainDimension");

        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 1, seed: 5);
        using var form = ApiDatasets.UploadForm(folder.Path, huge);
        await JobApiTests.ProblemAsync(await server.Client.PostAsync("/jobs/upload", form, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "MaxPretrainDimension");
    }
}
