using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Everything a coordinator refuses at submit, before any work: options, and the dataset's counts against them (normal
/// images for semi-supervised mode, K at most the images or classes, no more images than the clustering takes), and the
/// backbone. O(1) in the images: the list itself was checked by its writer (<see cref="JobManifestStore"/>).
/// </summary>
internal static class JobSubmissionCheck
{
    /// <summary>Throws unless the job can run.</summary>
    /// <exception cref="InvalidJobException">The reason, for a person, with the offending field.</exception>
    public static void Validate(JobSpecification specification, long clusteringMemoryBudgetBytes)
    {
        var manifest = specification.Manifest ?? throw new InvalidJobException("the job has no manifest; submit it with JobSubmitter.", "manifest");
        if (manifest.ImageCount < 1 || manifest.NormalImageCount < 0 || manifest.ChunkSize < 1 || string.IsNullOrEmpty(manifest.Prefix))
        {
            throw new InvalidJobException(
                $"the manifest reference is not valid ({manifest.ImageCount} images, {manifest.NormalImageCount} normal images, chunks of {manifest.ChunkSize}).", "manifest");
        }
        try
        {
            var options = JobOptionsMapping.ToPipelineOptions(specification.Options, clusteringMemoryBudgetBytes);
            JobPlan.CheckCounts(options, manifest.ImageCount, manifest.NormalImageCount, manifest.HasLabels ? manifest.ClassNames.Count : null);
            // Only parsed here: the model file need exist on the gpu-worker silos only, which check it when they open it.
            BackboneDescription.FromJson(specification.BackboneDescriptionJson, "the job's backbone description");
        }
        catch (InvalidClusteringInputException e)
        {
            throw new InvalidJobException(e.Message, e.ParamName);
        }
        catch (BackboneConfigurationException e)
        {
            throw new InvalidJobException(e.Message, "backbone");
        }
    }
}
