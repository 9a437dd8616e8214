using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>The API's <c>"detectThenCluster"</c>: read, mapped to the pipeline's options and back, refused outside semi-supervised mode.</summary>
public sealed class DetectThenClusterJsonTests
{
    [Fact]
    public void TheFieldReachesThePipelineAndComesBack()
    {
        var options = JsonSerializer.Deserialize<JobOptions>("""{"mode": "semi-supervised", "detectThenCluster": true, "clusters": 4}""", JobApiJson.Requests)!;
        var pipeline = JobOptionsMapping.ToPipelineOptions(options);
        Assert.True(pipeline.DetectThenCluster);
        Assert.True(JobOptionsMapping.FromPipelineOptions(pipeline).DetectThenCluster);
        Assert.True(JobRequests.CheckOptions(options, new JobApiOptions()).DetectThenCluster);
        Assert.False(JobOptionsMapping.ToPipelineOptions(new JobOptions()).DetectThenCluster);
    }

    [Fact]
    public void OutsideSemiSupervisedModeItIsAProblemThatSaysSo()
    {
        var options = JsonSerializer.Deserialize<JobOptions>("""{"detectThenCluster": true}""", JobApiJson.Requests)!;
        var problem = Assert.Throws<ApiProblemException>(() => JobRequests.CheckOptions(options, new JobApiOptions()));
        Assert.Contains("semi-supervised", problem.Message, StringComparison.Ordinal);
    }
}
