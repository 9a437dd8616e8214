using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A prefix job's images stream from the store's listing into the manifest's chunks: the manifest holds exactly the images,
/// labels and order that detecting the layout from the whole list gives (what the CLI and an upload give), and its first
/// chunk is written before the listing has ended.
/// </summary>
public sealed class PrefixManifestTests
{
    private const int ChunkSize = 3;

    private static readonly ClusteringJobOptions Options = new() { ClusterCount = 2, Linkage = LinkageMethod.Ward };

    public static TheoryData<string, string[]> Datasets => new()
    {
        {
            // 'scratch-deep/' lists before 'scratch/' ('-' < '/') but its class comes after; docs/ has no image and is no
            // class; hidden files, deeper folders and the combined class are left out; a text file in a class is listed.
            "class folders",
            [
                "crack/000.png", "crack/001.png", "crack/.DS_Store", "crack/notes.txt", "crack/sub/002.png", "combined/003.png",
                "docs/README.md", "scratch-deep/004.png", "scratch-deep/005.png", "scratch/006.png", "scratch/007.jpg", "scratch/008.png",
                ".hidden/009.png",
            ]
        },
        {
            // One root image makes the dataset flat: every visible root file is an image to cluster, the folders are not.
            "flat",
            ["a.png", "b.txt", "c-1.png", "c.png", ".d.png", "class/e.png", "z.bmp", "y/z.png", "e.jpeg"]
        },
        {
            "mvtec",
            [
                "test/good/000.png", "test/good/001.png", "test/crack/002.png", "test/crack-x/003.png", "test/combined/004.png",
                "test/crack/005.png", "test/readme.txt", "train/good/006.png", "train/good/007.png", "train/good/x/008.png",
                "ground_truth/crack/002_mask.png",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Datasets))]
    public async Task TheStreamedManifestHoldsWhatTheWholeListGivesInOrder(string layout, string[] names)
    {
        var store = new ListingCountingStore(new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-prefix-manifest")));
        const string prefix = "datasets/d/";
        foreach (var name in names)
        {
            using var content = new MemoryStream([1]);
            await store.PutAsync(prefix + name, content, cancellationToken: TestContext.Current.CancellationToken);
        }
        var expected = BlobDatasetDiscovery.FromNames(prefix, names, layout, normals: null);

        var plan = await BlobDatasetDiscovery.DiscoverAsync(store, prefix, null, 1_000, Options, TestContext.Current.CancellationToken);
        var listedByDiscovery = store.Listed;
        var writer = new JobManifestWriter(store, "jobs/j/manifest-1/", ChunkSize, idsAreUnique: true);
        await plan.WriteImagesAsync(store, writer, TestContext.Current.CancellationToken);
        foreach (var normal in plan.NormalImages)
        {
            await writer.AddNormalImageAsync(normal, TestContext.Current.CancellationToken);
        }
        var manifest = await writer.CompleteAsync(TestContext.Current.CancellationToken);

        Assert.Equal(expected.Layout, plan.Layout);
        Assert.Equal(expected.Images.Count, plan.ImageCount);
        Assert.True(manifest.ImageChunkCount >= 2, $"{manifest.ImageChunkCount} chunks");
        Assert.Equal(expected.Images, await JobManifestStore.ReadImagesAsync(store, manifest, TestContext.Current.CancellationToken).ToArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(expected.NormalImages, plan.NormalImages);
        Assert.Equal(expected.ExcludedImages, plan.ExcludedImages);
        Assert.Equal(expected.Images.Select(i => i.Label).OfType<string>().Distinct().Order(StringComparer.Ordinal), manifest.ClassNames);
        // The first chunk was stored while the second listing was still going: the images were never held as a list.
        Assert.True(store.ListedAtFirstManifestChunk < store.Listed, $"first chunk after {store.ListedAtFirstManifestChunk} of {store.Listed} names");
        Assert.True(store.ListedAtFirstManifestChunk > listedByDiscovery, "the first chunk comes from the second listing");
    }

    [Fact]
    public async Task APrefixThatGrewPastTheJobLimitWhileItWasSubmittedIsRefusedWhileWriting()
    {
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-prefix-grew"));
        const string prefix = "datasets/g/";
        foreach (var i in Enumerable.Range(0, 4))
        {
            using var content = new MemoryStream([1]);
            await store.PutAsync($"{prefix}{i}.png", content, cancellationToken: TestContext.Current.CancellationToken);
        }
        var plan = await BlobDatasetDiscovery.DiscoverAsync(store, prefix, null, 5, Options, TestContext.Current.CancellationToken);
        foreach (var i in Enumerable.Range(4, 3))
        {
            using var content = new MemoryStream([1]);
            await store.PutAsync($"{prefix}{i}.png", content, cancellationToken: TestContext.Current.CancellationToken);
        }

        var writer = new JobManifestWriter(store, "jobs/g/manifest-1/", ChunkSize, idsAreUnique: true);
        var refused = await Assert.ThrowsAsync<ApiProblemException>(() => plan.WriteImagesAsync(store, writer, TestContext.Current.CancellationToken));

        Assert.Contains("more than 5", refused.Message, StringComparison.Ordinal);
        Assert.Equal(5, writer.ImageCount);
    }

    [Fact]
    public async Task TheWriterRefusesMixedLabelsRepeatedIdsAndAnEmptyManifest()
    {
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-manifest-writer"));
        var writer = new JobManifestWriter(store, "m/", ChunkSize);
        await writer.AddImageAsync(new JobImage("a.png", "d/a.png", "good"), TestContext.Current.CancellationToken);

        var mixed = await Assert.ThrowsAsync<InvalidJobException>(() => writer.AddImageAsync(new JobImage("b.png", "d/b.png"), TestContext.Current.CancellationToken));
        Assert.Contains("'b.png' has no label but 'a.png' has one", mixed.Message, StringComparison.Ordinal);
        var twice = await Assert.ThrowsAsync<InvalidJobException>(() => writer.AddImageAsync(new JobImage("a.png", "d/a2.png", "good"), TestContext.Current.CancellationToken));
        Assert.Contains("occurs twice", twice.Message, StringComparison.Ordinal);
        var empty = await Assert.ThrowsAsync<InvalidJobException>(() => new JobManifestWriter(store, "n/", ChunkSize).CompleteAsync(TestContext.Current.CancellationToken));
        Assert.Contains("no images", empty.Message, StringComparison.Ordinal);
    }

    /// <summary>A store that counts the names its listings handed out, and how many had been handed out when the first manifest chunk was stored.</summary>
    private sealed class ListingCountingStore(IBlobStore inner) : IBlobStore
    {
        private int _listed;

        public int Listed => Volatile.Read(ref _listed);

        public int ListedAtFirstManifestChunk { get; private set; } = -1;

        public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var entry in inner.ListAsync(prefix, cancellationToken))
            {
                Interlocked.Increment(ref _listed);
                yield return entry;
            }
        }

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
        {
            if (name.EndsWith("images-000000.json", StringComparison.Ordinal) && ListedAtFirstManifestChunk < 0)
            {
                ListedAtFirstManifestChunk = Listed;
            }
            return inner.PutAsync(name, content, overwrite, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
