using AnomalyClustering.Testing;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Cli;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;
using AnomalyClustering.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// Jobs on a 3-silo in-process cluster (1 coordinator + 2 gpu-worker silos): the same clusters as the CLI's embedded mode and
/// the single-process pipeline, embedding only on workers, the feature cache on a second job, bad images, bad jobs, cancel.
/// </summary>
public sealed class ThreeSiloClusterTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Theory]
    [InlineData("unsupervised")]
    [InlineData("semi-supervised")]
    public async Task ClusterGivesTheSameClustersAsTheEmbeddedCliAndTheSingleProcessPipeline(string mode)
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: mode == "unsupervised" ? 11 : 12);
        var status = await JobRuns.RunAsync(Grains, fixture.Store, $"same-{mode}", data.Job(new JobOptions { Mode = mode }));
        var cluster = await JobRuns.ResultAsync(fixture.Store, status);
        Assert.Equal(data.Images.Count, cluster.Images.Count);

        // The CLI's embedded mode (an in-process silo of its own) with the CLI's defaults, which the job options share.
        var outFolder = IsolatedCacheFolder.NewScratchFolder("ac-cli");
        var exit = await CliApplication.RunAsync(
            ["cluster", data.Root, "--mode", mode, "--out", outFolder, "--store", outFolder + "-store"], CliConsole.ForWriters(new StringWriter(), new StringWriter()), TestContext.Current.CancellationToken);
        Assert.Equal(0, exit);
        var cli = ResultFolder.Read(outFolder).Result;
        Assert.Equal(JobRuns.Clusters(cli), JobRuns.Clusters(cluster));

        // The library pipeline in one process, no grains at all.
        var options = JobOptionsMapping.ToPipelineOptions(new JobOptions { Mode = mode });
        using var backbone = new OnnxBackbone(BackboneDescription.FromJson(DemoDataset.BackboneJson));
        var pipeline = new ClusteringPipeline(backbone, options).Run(data.Found.Dataset, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(JobRuns.Clusters(pipeline), JobRuns.Clusters(cluster));
        Assert.Equal(pipeline.Scores!.NormalizedMutualInformation, cluster.Scores!.NormalizedMutualInformation, 12);
        foreach (var (expected, actual) in pipeline.Images.Zip(cluster.Images))
        {
            Assert.Equal(expected.Id, actual.Id);
            for (var m = 0; m < expected.PatchWeights!.Length; m++)
            {
                Assert.Equal(expected.PatchWeights[m], actual.PatchWeights![m], 1e-5f);
            }
        }
    }

    [Fact]
    public async Task ACoresetJobGivesThePipelinesClustersAndThresholdAndTheSameResultForTheSameSeed()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 13);
        var wire = new JobOptions { Mode = "semi-supervised", Coreset = 0.25 };
        var first = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "coreset-a", data.Job(wire)));
        var again = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "coreset-b", data.Job(wire)));
        Assert.Equal(0.25, first.Options.CoresetFraction);

        // The same seed selects the same coreset, whichever job and worker: bit for bit the same weights and threshold.
        Assert.Equal(first.AnomalyThreshold, again.AnomalyThreshold);
        // Scores and the image files' hashes land on the same per-image records (one copy of them in the result stage).
        Assert.All(first.Images, image => Assert.Equal(64, image.ContentSha256?.Length));
        Assert.All(first.Images, image => Assert.NotNull(image.AnomalyScore));
        foreach (var (a, b) in first.Images.Zip(again.Images))
        {
            Assert.Equal(a.PatchWeights, b.PatchWeights);
        }

        // A direct Core computation (the single-process pipeline selects the coreset itself) gives the job's clusters and threshold.
        var options = JobOptionsMapping.ToPipelineOptions(wire);
        using var backbone = new OnnxBackbone(BackboneDescription.FromJson(DemoDataset.BackboneJson));
        var pipeline = new ClusteringPipeline(backbone, options).Run(data.Found.Dataset, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(JobRuns.Clusters(pipeline), JobRuns.Clusters(first));
        Assert.Equal(pipeline.AnomalyThreshold!.Value, first.AnomalyThreshold!.Value, 5);
        foreach (var (expected, actual) in pipeline.Images.Zip(first.Images))
        {
            Assert.Equal(expected.AnomalyScore!.Value, actual.AnomalyScore!.Value, 5);
            for (var m = 0; m < expected.PatchWeights!.Length; m++)
            {
                Assert.Equal(expected.PatchWeights[m], actual.PatchWeights![m], 1e-5f);
            }
        }

        // The coreset is really the bank: against every normal patch the anomaly scores are smaller (a subset is never nearer).
        var whole = new ClusteringPipeline(backbone, options with { CoresetFraction = 0 }).Run(data.Found.Dataset, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(whole.Images.Zip(first.Images), pair => Assert.True(pair.First.AnomalyScore <= pair.Second.AnomalyScore + 1e-9));
        Assert.Contains(whole.Images.Zip(first.Images), pair => pair.First.AnomalyScore < pair.Second.AnomalyScore - 1e-6);
    }

    [Fact]
    public void EverySiloCachesABoundedNumberOfGrainAddresses()
    {
        // Orleans' default (1,000,000 per silo) kept one entry per image grain: 110 MB at 200,000 images in the scale simulation.
        foreach (var silo in fixture.Cluster.Silos)
        {
            var directory = fixture.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IOptions<GrainDirectoryOptions>>().Value;
            Assert.Equal(Hosting.AnomalyClusteringSiloExtensions.DirectoryCacheSize, directory.CacheSize);
        }
    }

    [Fact]
    public async Task EmbeddingRunsOnlyOnGpuWorkerSilos()
    {
        var before = fixture.Cluster.Silos.ToDictionary(silo => silo.Name, silo => fixture.BackbonesOf(silo).ImagesInferred);
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 21);
        var status = await JobRuns.RunAsync(Grains, fixture.Store, "placement", data.Job(new JobOptions()));
        Assert.Equal(JobState.Completed, status.State);
        var inferred = fixture.Cluster.Silos.ToDictionary(silo => silo.Name, silo => fixture.BackbonesOf(silo).ImagesInferred - before[silo.Name]);

        var coordinators = inferred.Where(pair => ThreeSiloCluster.RoleOf(pair.Key) == SiloRoles.Coordinator).ToList();
        var workers = inferred.Where(pair => ThreeSiloCluster.RoleOf(pair.Key) == SiloRoles.GpuWorker).ToList();
        Assert.Single(coordinators);
        Assert.Equal(2, workers.Count);
        Assert.All(coordinators, pair => Assert.Equal(0, pair.Value));
        Assert.Equal(data.Images.Count, workers.Sum(pair => pair.Value));
        // Random placement over two workers: both get work (all 24 images on one would be a 2^-23 event).
        Assert.All(workers, pair => Assert.True(pair.Value > 0, $"worker {pair.Key} embedded nothing: {string.Join(", ", inferred)}"));
    }

    [Fact]
    public async Task SecondJobOverTheSameImagesReadsTheFeatureCacheWithoutInference()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 31);
        var spec = data.Job(new JobOptions { Mode = "semi-supervised" });
        var first = await JobRuns.RunAsync(Grains, fixture.Store, "cache-first", spec);
        Assert.Equal(0, first.CacheHits);
        var inferredAfterFirst = fixture.Cluster.Silos.Sum(silo => fixture.BackbonesOf(silo).ImagesInferred);

        var second = await JobRuns.RunAsync(Grains, fixture.Store, "cache-second", spec);
        Assert.Equal(data.Images.Count + data.NormalImages.Count, second.CacheHits);
        Assert.Equal(inferredAfterFirst, fixture.Cluster.Silos.Sum(silo => fixture.BackbonesOf(silo).ImagesInferred));

        var a = await JobRuns.ResultAsync(fixture.Store, first);
        var b = await JobRuns.ResultAsync(fixture.Store, second);
        Assert.Equal(JobRuns.Clusters(a), JobRuns.Clusters(b));
        Assert.Equal(a.MergeTree.LinkageMatrix, b.MergeTree.LinkageMatrix);
        foreach (var (x, y) in a.Images.Zip(b.Images))
        {
            Assert.Equal(x.PatchWeights, y.PatchWeights);
        }
    }

    [Fact]
    public async Task BadImagesAreReportedAndTheJobCompletesWithTheGoodOnes()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 41);
        await fixture.Store.PutAsync("datasets/bad/not-an-image.png", new MemoryStream("this is text, not a PNG"u8.ToArray()), cancellationToken: TestContext.Current.CancellationToken);
        var images = data.Images
            .Append(new JobImage("bad/not-an-image.png", "datasets/bad/not-an-image.png", data.Images[0].Label))
            .Append(new JobImage("bad/missing.png", "datasets/bad/missing.png", data.Images[0].Label))
            .ToArray();
        var status = await JobRuns.RunAsync(Grains, fixture.Store, "bad-images", data.Job(new JobOptions()) with { Images = images });
        var result = await JobRuns.ResultAsync(fixture.Store, status);

        Assert.Equal(2, status.FailedImages);
        Assert.Equal(data.Images.Count, result.Images.Count);
        var failures = await Grains.GetGrain<IClusteringJobGrain>("bad-images").GetFailures();
        Assert.Contains(failures, f => f.Id == "bad/missing.png" && f.Reason == "missing");
        Assert.Contains(failures, f => f.Id == "bad/not-an-image.png" && f.Reason is "not-an-image" or "corrupt" or "unsupported-format");
        Assert.Equal(failures.Select(f => f.Id).Order(), result.Errors.Select(e => e.Id).Order());
    }

    [Fact]
    public async Task InvalidJobsAreRefusedWithAMessageAndUnknownJobsAreUnknown()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 51, imagesPerClass: 2, normals: 2);
        var tau = await Assert.ThrowsAsync<InvalidJobException>(() => JobRuns.SubmitAsync(fixture.Store, Grains, "bad-tau", data.Job(new JobOptions { Tau = -1 })));
        Assert.Contains("tau", tau.Message);
        var mode = await Assert.ThrowsAsync<InvalidJobException>(() => JobRuns.SubmitAsync(fixture.Store, Grains, "bad-mode", data.Job(new JobOptions { Mode = "fuzzy" })));
        Assert.Contains("unknown mode 'fuzzy'", mode.Message);
        var duplicate = data.Job(new JobOptions()) with { Images = [.. data.Images, data.Images[0]] };
        var twice = await Assert.ThrowsAsync<InvalidJobException>(() => JobRuns.SubmitAsync(fixture.Store, Grains, "bad-duplicate", duplicate));
        Assert.Contains("occurs twice", twice.Message);
        var id = await Assert.ThrowsAsync<InvalidJobException>(() => JobRuns.SubmitAsync(fixture.Store, Grains, "../escape", data.Job(new JobOptions())));
        Assert.Contains("job id", id.Message);
        // More images than the clustering takes: refused at submit, naming the limit, before any image is embedded. Average
        // linkage needs the N x N matrix, which holds at most 23,170 images within the default 2 GiB clustering budget.
        var many = data.Job(new JobOptions { Clusters = 2, Linkage = "average" }) with
        {
            Images = Enumerable.Range(0, 23_171).Select(i => new JobImage($"many/{i:D6}.png", $"missing/{i:D6}.png", null)).ToArray(),
        };
        var tooMany = await Assert.ThrowsAsync<InvalidJobException>(() => JobRuns.SubmitAsync(fixture.Store, Grains, "bad-too-many", many));
        Assert.Contains("23,171 images", tooMany.Message);
        Assert.Contains("at most 23,170", tooMany.Message);
        Assert.Equal(JobState.Unknown, (await Grains.GetGrain<IClusteringJobGrain>("bad-too-many").GetStatus()).State);

        Assert.Equal(JobState.Unknown, (await Grains.GetGrain<IClusteringJobGrain>("never-submitted").GetStatus()).State);
        Assert.Equal(JobState.Unknown, (await Grains.GetGrain<IClusteringJobGrain>("bad-tau").GetStatus()).State);
    }

    [Fact]
    public async Task CancelledJobStopsAndStaysCancelled()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 61);
        var coordinator = Grains.GetGrain<IClusteringJobGrain>("cancel-me");
        await JobRuns.SubmitAsync(fixture.Store, Grains, "cancel-me", data.Job(new JobOptions()));
        var cancelled = await coordinator.Cancel();
        Assert.Equal(JobState.Cancelled, cancelled.State);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        var later = await coordinator.GetStatus();
        Assert.Equal(JobState.Cancelled, later.State);
        Assert.Null(later.ResultBlob);
        Assert.False(await fixture.Store.ExistsAsync(JobBlobNames.Result("cancel-me"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SubmittingTheSameJobIdAgainReturnsTheExistingJob()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 71, imagesPerClass: 2, normals: 2);
        var first = await JobRuns.RunAsync(Grains, fixture.Store, "idempotent", data.Job(new JobOptions()));
        var again = await JobRuns.SubmitAsync(fixture.Store, Grains, "idempotent", data.Job(new JobOptions { Tau = 2 }));
        Assert.Equal(first.State, again.State);
        Assert.Equal(first.CreatedAt, again.CreatedAt);
        var listed = await Grains.GetGrain<IJobRegistryGrain>(0).List(0, 1000);
        Assert.Equal(JobState.Completed, Assert.Single(listed, status => status.JobId == "idempotent").State);
    }

    [Fact]
    public async Task AFailedJobResubmittedWithItsIdRunsAgainFromItsManifest()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 73, imagesPerClass: 2, normals: 3);
        var semiSupervised = new JobOptions { Mode = "semi-supervised" };
        var reference = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "retry-reference", data.Job(semiSupervised)));
        // The normal images are named where nothing is yet: the job fails (semi-supervised needs at least one).
        var late = data.NormalImages.Select(image => image with { BlobName = "datasets/retry-late/" + image.Id }).ToArray();
        var failed = await JobRuns.RunAsync(Grains, fixture.Store, "retry-failed", data.Job(semiSupervised) with { NormalImages = late });
        Assert.Equal(JobState.Failed, failed.State);
        var coordinator = Grains.GetGrain<IClusteringJobGrain>("retry-failed");
        var manifest = await coordinator.GetManifest();

        foreach (var (image, copy) in data.NormalImages.Zip(late))
        {
            await using var content = await fixture.Store.OpenReadAsync(image.BlobName, TestContext.Current.CancellationToken);
            await fixture.Store.PutAsync(copy.BlobName, content, cancellationToken: TestContext.Current.CancellationToken);
        }
        // Resubmitted with other images and options: the job runs again from what it was submitted with.
        var retried = await JobRuns.RunAsync(Grains, fixture.Store, "retry-failed", data.Job(new JobOptions { Tau = 2 }) with { Images = data.Images.Take(2).ToArray() });

        Assert.True(retried.State == JobState.Completed, $"the retried job ended {retried.State}: {retried.Error}");
        Assert.Null(retried.Error);
        Assert.Equal(failed.CreatedAt, retried.CreatedAt);
        Assert.Equal(manifest!.Prefix, (await coordinator.GetManifest())!.Prefix);
        var result = await JobRuns.ResultAsync(fixture.Store, retried);
        Assert.Equal(JobRuns.Clusters(reference), JobRuns.Clusters(result));
        Assert.Equal(reference.Images.Select(image => image.AnomalyScore), result.Images.Select(image => image.AnomalyScore));
        var listed = await Grains.GetGrain<IJobRegistryGrain>(0).List(0, 1000);
        Assert.Equal(JobState.Completed, Assert.Single(listed, status => status.JobId == "retry-failed").State);

        // A completed job's resubmission (and retry) leaves it as it is.
        var again = await JobRuns.SubmitAsync(fixture.Store, Grains, "retry-failed", data.Job(semiSupervised) with { NormalImages = late });
        Assert.Equal((JobState.Completed, retried.UpdatedAt, retried.ResultBlob), (again.State, again.UpdatedAt, again.ResultBlob));
        Assert.Equal(retried.UpdatedAt, (await coordinator.Retry()).UpdatedAt);
    }

    [Fact]
    public async Task ACancelledJobRetriedRunsToTheClustersOfAnUninterruptedRun()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 79, imagesPerClass: 2, normals: 2);
        var reference = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "retry-cancel-reference", data.Job(new JobOptions())));
        var coordinator = Grains.GetGrain<IClusteringJobGrain>("retry-cancelled");
        await JobRuns.SubmitAsync(fixture.Store, Grains, "retry-cancelled", data.Job(new JobOptions()));
        Assert.Equal(JobState.Cancelled, (await coordinator.Cancel()).State);

        var restarted = await coordinator.Retry();
        Assert.True(restarted.State.IsActive(), $"the retried job is {restarted.State}");
        var finished = await JobRuns.RunAsync(Grains, fixture.Store, "retry-cancelled", data.Job(new JobOptions()));

        Assert.Equal(JobState.Completed, finished.State);
        Assert.Equal(0, finished.FailedImages);
        Assert.Equal(JobRuns.Clusters(reference), JobRuns.Clusters(await JobRuns.ResultAsync(fixture.Store, finished)));
    }

    [Fact]
    public async Task AJobSplitIntoManyShardsGivesTheSameResultAsOneShard()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 81);
        var one = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "shards-one", data.Job(new JobOptions())));
        // Chunks of 2 images: shards that run two at a time, finish out of order and are read back in order.
        var many = await JobRuns.ResultAsync(fixture.Store, await JobRuns.RunAsync(Grains, fixture.Store, "shards-many", data.Job(new JobOptions()), chunkSize: 2));

        Assert.Equal(one.Images.Select(image => image.Id), many.Images.Select(image => image.Id));
        Assert.Equal(JobRuns.Clusters(one), JobRuns.Clusters(many));
        Assert.Equal(one.Images.Select(image => image.AnomalyScore), many.Images.Select(image => image.AnomalyScore));
        Assert.Equal(one.Images.Select(image => image.PatchWeights!), many.Images.Select(image => image.PatchWeights!));
    }

    [Fact]
    public async Task AReferenceImageThatCannotBeUsedIsReplacedByTheNextSeededCandidate()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 91);
        await fixture.Store.PutAsync("datasets/bad-reference/broken.png", new MemoryStream("not a PNG"u8.ToArray()), cancellationToken: TestContext.Current.CancellationToken);
        var count = data.Images.Count + 1;
        // The broken image goes where the seeded drawing puts the first reference.
        var first = Core.Scoring.ReferenceSample.DrawingOrder(count, 0).First();
        var images = data.Images.ToList();
        images.Insert(first, new JobImage("broken.png", "datasets/bad-reference/broken.png", data.Images[0].Label));

        var options = new JobOptions { Refs = 3 };
        var status = await JobRuns.RunAsync(Grains, fixture.Store, "bad-reference", data.Job(options) with { Images = images });
        var result = await JobRuns.ResultAsync(fixture.Store, status);

        Assert.Equal(1, status.FailedImages);
        Assert.Equal(data.Images.Select(image => image.Id), result.Images.Select(image => image.Id));
        Assert.Equal("broken.png", Assert.Single(result.Errors).Id);
        Assert.All(result.Images, image => Assert.NotNull(image.AnomalyScore));
    }
}
