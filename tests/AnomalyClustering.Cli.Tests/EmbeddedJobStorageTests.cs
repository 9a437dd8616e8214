using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// Two embedded runs on one store at once (two terminals, the tests' parallel runs) share its grain-state folder: their
/// jobs' state is theirs (one job id per process), but the job registry is one grain in every silo, so it must not be a
/// file there. A CI run failed on it: "the file storage record .../grain-state/....grain has an invalid format".
/// </summary>
public sealed class EmbeddedJobStorageTests
{
    [Fact]
    public async Task TwoSilosOnOneStoreKeepTheJobRegistryInMemoryAndJobStateInFiles()
    {
        using var folder = new TempFolder();
        var defaults = new ClusteringJobOptions();
        var cancellation = TestContext.Current.CancellationToken;
        await using var first = await EmbeddedCluster.StartAsync(folder.Path, new BackboneRuntimeOptions(), defaults.BatchSize, defaults.ClusteringMemoryBudgetBytes, TextWriter.Null, cancellation);
        await using var second = await EmbeddedCluster.StartAsync(folder.Path, new BackboneRuntimeOptions(), defaults.BatchSize, defaults.ClusteringMemoryBudgetBytes, TextWriter.Null, cancellation);

        // Both registries record at once, as the coordinators of two runs do at each state change.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? first : second).Client.GetGrain<IJobRegistryGrain>(0)
            .Record(new JobStatus { JobId = $"cli-{i}", State = JobState.Weighting })));

        Assert.Equal(100, (await first.Client.GetGrain<IJobRegistryGrain>(0).List(0, 1000)).Count);
        Assert.Equal(100, (await second.Client.GetGrain<IJobRegistryGrain>(0).List(0, 1000)).Count);
        var stateFolder = Path.Combine(folder.Path, "grain-state");
        Assert.Empty(Directory.Exists(stateFolder) ? Directory.GetFiles(stateFolder, "*", SearchOption.AllDirectories) : []);

        // That job state still goes to files is what InterruptedRunTests resume from (their *.grain files).
    }
}
