using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Silo.Api;

namespace AnomalyClustering.Silo.Tests;

/// <summary>The API's <c>"clusters": "auto"</c>: read as automatic K, mapped to the pipeline's options, other values refused.</summary>
public sealed class AutomaticClustersJsonTests
{
    [Fact]
    public void AutoMeansAutomaticClustersAndANumberStaysK()
    {
        var automatic = JsonSerializer.Deserialize<JobOptions>("""{"clusters": "auto", "maxClusters": 8, "clusterCountCriterion": "calinski-harabasz"}""", JobApiJson.Requests)!;
        var pipeline = JobOptionsMapping.ToPipelineOptions(automatic);
        Assert.True(pipeline.AutomaticClusterCount);
        Assert.Null(pipeline.ClusterCount);
        Assert.Equal(8, pipeline.MaximumClusterCount);
        Assert.Equal(Core.Clustering.ClusterCountCriterion.CalinskiHarabasz, pipeline.ClusterCountCriterion);
        Assert.True(JobRequests.CheckOptions(automatic, new JobApiOptions()).AutomaticClusters);

        var given = JsonSerializer.Deserialize<JobOptions>("""{"clusters": 4}""", JobApiJson.Requests)!;
        Assert.False(given.AutomaticClusters);
        Assert.Equal(4, given.Clusters);
    }

    [Fact]
    public void OtherWordsUnknownMembersAndAutoWithAThresholdAreRefused()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobOptions>("""{"clusters": "many"}""", JobApiJson.Requests));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobOptions>("""{"clusters": "auto", "clusterz": 3}""", JobApiJson.Requests));
        var both = JsonSerializer.Deserialize<JobOptions>("""{"clusters": "auto", "distanceThreshold": 2}""", JobApiJson.Requests)!;
        var problem = Assert.Throws<ApiProblemException>(() => JobRequests.CheckOptions(both, new JobApiOptions()));
        Assert.Contains("not two of them", problem.Message, StringComparison.Ordinal);
    }
}
