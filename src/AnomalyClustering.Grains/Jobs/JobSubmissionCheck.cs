using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Everything a coordinator refuses at submit, before any work: options, the dataset against them (normal images for
/// semi-supervised mode, K at most the images, no more images than the clustering takes), blob names and the backbone.
/// O(N) in the images.
/// </summary>
internal static class JobSubmissionCheck
{
    /// <summary>Throws unless the job can run.</summary>
    /// <exception cref="InvalidJobException">The reason, for a person, with the offending field.</exception>
    public static void Validate(JobSpecification specification, long clusteringMemoryBudgetBytes)
    {
        try
        {
            var options = JobOptionsMapping.ToPipelineOptions(specification.Options, clusteringMemoryBudgetBytes);
            var dataset = new ClusteringDataset(
                specification.Images.Select(image => new DatasetImage(image.Id, image.BlobName, image.Label)).ToArray(),
                specification.NormalImages.Select(image => new DatasetImage(image.Id, image.BlobName, image.Label)).ToArray());
            JobPlan.CheckDataset(options, dataset);
            foreach (var image in specification.Images.Concat(specification.NormalImages))
            {
                // A bad name would otherwise surface per image as an internal error of the store.
                BlobName.Validate(image.BlobName);
            }
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
        catch (InvalidBlobNameException e)
        {
            throw new InvalidJobException($"image blob name '{e.RejectedName}' is not allowed: {e.Message}", "images");
        }
    }
}
