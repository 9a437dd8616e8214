using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Cli.Embedded;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The embedded silo's grain-state files: replaced whole (a write killed half-way leaves the old state, which a resumed run
/// reads), with ETags checked as any grain storage checks them.
/// </summary>
public sealed class AtomicFileGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("clusteringjob", "cli-test");

    [Fact]
    public async Task StateRoundTripsAndALeftOverTemporaryFileChangesNothingAndIsReplaced()
    {
        using var folder = new TempFolder();
        var storage = new AtomicFileGrainStorage(folder.Path, NewSerializer());
        var written = new GrainState<List<string>>(["a", "b"]);
        await storage.WriteStateAsync("job", Grain, written);

        // What a process killed during its next write leaves: a torn temporary file beside the state.
        var stateFile = Assert.Single(Directory.GetFiles(folder.Path, "*.grain"));
        await File.WriteAllBytesAsync(stateFile + ".tmp", [1, 2, 3], TestContext.Current.CancellationToken);

        var read = new GrainState<List<string>>();
        await storage.ReadStateAsync("job", Grain, read);
        Assert.Equal(["a", "b"], read.State);
        Assert.Equal(written.ETag, read.ETag);
        Assert.True(read.RecordExists);
        // The grain's next write goes through the same temporary name: the left-over of the killed write is gone after it.
        await storage.WriteStateAsync("job", Grain, read);
        Assert.Equal([stateFile], Directory.GetFiles(folder.Path));

        var missing = new GrainState<List<string>>();
        await storage.ReadStateAsync("job", GrainId.Create("clusteringjob", "cli-other"), missing);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
        Assert.Empty(Assert.IsType<List<string>>(missing.State));
    }

    [Fact]
    public async Task AStaleETagIsRefusedAndClearRemovesTheState()
    {
        using var folder = new TempFolder();
        var storage = new AtomicFileGrainStorage(folder.Path, NewSerializer());
        var first = new GrainState<List<string>>(["one"]);
        await storage.WriteStateAsync("job", Grain, first);
        var stale = new GrainState<List<string>>(["two"]) { ETag = "00000000000000000000000000000000" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, stale));

        var stateFile = Assert.Single(Directory.GetFiles(folder.Path, "*.grain"));
        await File.WriteAllBytesAsync(stateFile + ".tmp", [1, 2, 3], TestContext.Current.CancellationToken);
        await storage.ClearStateAsync("job", Grain, first);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.grain"));
        Assert.Empty(Directory.GetFiles(folder.Path));
        Assert.False(first.RecordExists);
    }

    private static Serializer NewSerializer() => new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
}
