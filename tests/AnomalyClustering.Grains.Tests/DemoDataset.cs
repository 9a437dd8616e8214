using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

/// <summary>A small labelled MVTec-layout dataset from the demo's synthetic product line, on disk and in the blob store.</summary>
internal sealed record DemoDataset(string Root, DiscoveredImageFolder Found, IReadOnlyList<JobImage> Images, IReadOnlyList<JobImage> NormalImages)
{
    /// <summary>The CLI's default backbone (built-in, whole image) as a job carries it.</summary>
    public static string BackboneJson => BackboneSelection.Describe(modelPath: null, descriptionPath: null, featureOutputs: []).ToJson();

    /// <summary>Writes the images (distinct per <paramref name="seed"/>) under a temp folder and copies them into <paramref name="store"/>.</summary>
    public static async Task<DemoDataset> CreateAsync(IBlobStore store, int seed, int imagesPerClass = 4, int normals = 6)
    {
        var folder = IsolatedCacheFolder.NewScratchFolder($"ac-demo-{seed}");
        var summary = SyntheticProductLine.Write(folder, new SyntheticProductLineOptions { Seed = seed, ImagesPerClass = imagesPerClass, NormalTrainingImages = normals });
        var found = ImageFolderDiscovery.Discover(summary.Root);
        var prefix = $"datasets/{Path.GetFileName(folder)}/";
        return new DemoDataset(
            summary.Root,
            found,
            await UploadAsync(store, prefix + "images/", found.Dataset.Images),
            await UploadAsync(store, prefix + "normal/", found.Dataset.NormalImages));
    }

    /// <summary>A job over the dataset with <paramref name="options"/>.</summary>
    public JobSubmission Job(JobOptions options) => new(Images, NormalImages, options, BackboneJson, Root);

    private static async Task<JobImage[]> UploadAsync(IBlobStore store, string prefix, IReadOnlyList<DatasetImage> images)
    {
        var uploaded = new List<JobImage>();
        foreach (var image in images)
        {
            var blob = prefix + image.Id;
            await using var file = File.OpenRead(image.Path);
            await store.PutAsync(blob, file);
            uploaded.Add(new JobImage(image.Id, blob, image.Label));
        }
        return [.. uploaded];
    }
}
