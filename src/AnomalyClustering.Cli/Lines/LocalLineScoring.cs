using System.Text.Json;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// How an embedded silo processes a local line's new images (<c>line feed</c>), recorded by <c>line create --from-result</c>
/// when the result alone says it: the <c>average</c> mode (no references or normal bank to weigh against) with the built-in
/// backbone (whose description is known here). Other results give no record, and <c>line feed</c> says why; their lines
/// take images on a server, whose catalogs record their job's references or normal bank.
/// </summary>
internal static class LocalLineScoring
{
    /// <summary>The record for version <paramref name="version"/> of line <paramref name="line"/>, or null and why not.</summary>
    public static (CatalogScoring? Scoring, string? Missing) For(string line, int version, ClusteringResult result, ResultSource source)
    {
        if (result.Options.Mode != ClusteringMode.Average)
        {
            return (null, $"its result was weighed in the {ClusteringOptionNames.Of(result.Options.Mode)} mode, whose references or normal bank a result file does not record");
        }
        if (source.Backbone != BuiltInBackbone.Description.Name)
        {
            return (null, $"its result used backbone '{source.Backbone ?? "none"}', whose model a result file does not record (only the built-in backbone is known here)");
        }
        var description = BuiltInBackbone.Description with { Preprocessing = source.Preprocessing ?? BuiltInBackbone.WholeImageDescription.Preprocessing };
        var options = JsonSerializer.Serialize(JobOptionsMapping.FromPipelineOptions(result.Options), LineImageDecider.LogJson);
        return (new CatalogScoring($"local-{line}-v{version}", options, description.ToJson(), [], [], 0, []), null);
    }
}
