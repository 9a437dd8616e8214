using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Grains.Tests;

/// <summary>Makes a production line's catalog from a completed job of the cluster, as <c>POST /lines</c> does.</summary>
internal static class JobLines
{
    /// <summary>Catalog version 1 of line <paramref name="line"/> from <paramref name="job"/>, with its job's scoring record.</summary>
    public static async Task<LineCatalog> CatalogOfAsync(ThreeSiloCluster fixture, JobStatus job, string line)
    {
        var (result, source) = await JobResultFiles.ReadAsync(fixture.Store, job.ResultBlob!, TestContext.Current.CancellationToken);
        var basis = (await fixture.Cluster.Client.GetGrain<IClusteringJobGrain>(job.JobId).GetScoringBasis())!;
        return JobLineCatalog.Create(line, 1, result, source, $"job:{job.JobId}", AssignmentRuleSettings.Default) with
        {
            Scoring = new CatalogScoring(job.JobId, JsonSerializer.Serialize(basis.Options, LineImageDecider.LogJson), basis.BackboneDescriptionJson,
                basis.ReferenceImages, basis.ReferenceFeatureBlobs, basis.ReferencesPerImage, basis.NormalFeatureBlobs),
        };
    }
}
