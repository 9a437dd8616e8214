using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Grains.Tests;

public sealed class JobManifestStoreTests
{
    [Fact]
    public async Task ImagesAndNormalImagesComeBackInOrderChunkByChunk()
    {
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-manifest"));
        var images = Enumerable.Range(0, 11).Select(i => new JobImage($"img/{i}.png", $"data/img/{i}.png", i % 3 == 0 ? "crack" : "good")).ToArray();
        var normals = Enumerable.Range(0, 4).Select(i => new JobImage($"normal/{i}.png", $"data/normal/{i}.png")).ToArray();

        var manifest = await JobManifestStore.WriteAsync(store, "jobs/j/manifest-1/", images, normals, chunkSize: 4, TestContext.Current.CancellationToken);

        Assert.Equal((11, 4, 3), (manifest.ImageCount, manifest.NormalImageCount, manifest.ImageChunkCount));
        Assert.Equal(["crack", "good"], manifest.ClassNames);
        Assert.Equal(images[4..8], await JobManifestStore.ReadImageChunkAsync(store, manifest, 1, TestContext.Current.CancellationToken));
        Assert.Equal(images[8..], await JobManifestStore.ReadImageChunkAsync(store, manifest, 2, TestContext.Current.CancellationToken));
        Assert.Equal(images, await JobManifestStore.ReadImagesAsync(store, manifest, TestContext.Current.CancellationToken).ToArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(normals[3], await JobManifestStore.ReadImageAsync(store, manifest, 3, normal: true, TestContext.Current.CancellationToken));
        Assert.Equal(images[10], await JobManifestStore.ReadImageAsync(store, manifest, 10, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AListThatIsNotADatasetIsRefusedBeforeAnythingIsWritten()
    {
        var folder = IsolatedCacheFolder.NewScratchFolder("ac-manifest-bad");
        var store = new LocalDirectoryBlobStore(folder);
        var image = new JobImage("a.png", "data/a.png", "good");

        var twice = await Assert.ThrowsAsync<InvalidJobException>(() => JobManifestStore.WriteAsync(store, "m/", [image, image], [], 4, TestContext.Current.CancellationToken));
        Assert.Contains("occurs twice", twice.Message);
        var mixed = await Assert.ThrowsAsync<InvalidJobException>(() => JobManifestStore.WriteAsync(store, "m/", [image, new JobImage("b.png", "data/b.png")], [], 4, TestContext.Current.CancellationToken));
        Assert.Contains("label", mixed.Message);
        var name = await Assert.ThrowsAsync<InvalidJobException>(() => JobManifestStore.WriteAsync(store, "m/", [new JobImage("c.png", "../c.png")], [], 4, TestContext.Current.CancellationToken));
        Assert.Contains("not allowed", name.Message);
        Assert.Empty(await store.ListAsync("m/", TestContext.Current.CancellationToken).ToArrayAsync(TestContext.Current.CancellationToken));
    }
}
