using System.Runtime.CompilerServices;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A prefix holding more images than the clustering takes is refused while its listing streams in: a million-image prefix
/// costs the listing of the limit's worth of names, not of a million, and the refusal names the limit.
/// </summary>
public sealed class PrefixLimitTests
{
    private const int Million = 1_000_000;

    // Average linkage needs the N x N matrix: within the default 2 GiB budget it takes at most 23,170 images.
    private static readonly ClusteringJobOptions Options = new() { ClusterCount = 8, Linkage = LinkageMethod.Average };

    [Fact]
    public void TheLimitIsTheLargestCountTheClusteringAccepts()
    {
        Assert.Equal(23_170, JobLimits.MaxClusteredImages(Options));
        JobLimits.CheckClustering(Options, 23_170);
        Assert.Throws<InvalidClusteringInputException>(() => JobLimits.CheckClustering(Options, 23_171));
        // Ward has linear-memory and two-stage algorithms: a million images fit the same budget.
        JobLimits.CheckClustering(Options with { Linkage = LinkageMethod.Ward }, Million);
        Assert.True(JobLimits.MaxClusteredImages(Options with { Linkage = LinkageMethod.Ward }) > Million);
    }

    [Fact]
    public async Task AMillionImageFlatPrefixIsRefusedAfterListingOneMoreThanTheLimit()
    {
        var store = new GeneratedListingStore("big/", i => $"img-{i:D7}.png", Million);
        var refused = await Assert.ThrowsAsync<InvalidClusteringInputException>(
            () => BlobDatasetDiscovery.DiscoverAsync(store, "big", null, Million, Options, CancellationToken.None));
        Assert.Contains("more than 23,170 images", refused.Message);
        Assert.Contains("split the dataset", refused.Message);
        Assert.Equal(23_171, store.Listed);
    }

    [Fact]
    public async Task AMillionImageMvtecPrefixIsRefusedAfterListingOneMoreThanTheLimit()
    {
        // 10 names of the combined class first: they are left out by the protocol, so they do not count.
        var store = new GeneratedListingStore("big/", i => i < 10 ? $"test/combined/{i:D7}.png" : $"test/crack/{i:D7}.png", Million);
        var refused = await Assert.ThrowsAsync<InvalidClusteringInputException>(
            () => BlobDatasetDiscovery.DiscoverAsync(store, "big/", null, Million, Options, CancellationToken.None));
        Assert.Contains("at most 23,170", refused.Message);
        // The test/ probe stops at its first name; the listing after 10 combined images and 23,171 counted ones.
        Assert.Equal(1 + 10 + 23_171, store.Listed);
    }

    [Fact]
    public async Task ClassFoldersOverTheLimitAreRefusedOnceTheirListingEnds()
    {
        // A root image listed after the class folders would make the dataset flat, so the whole listing is needed.
        var store = new GeneratedListingStore("classes/", i => $"{(i < 15_000 ? "crack" : "hole")}/{i:D7}.png", 30_000);
        var refused = await Assert.ThrowsAsync<InvalidClusteringInputException>(
            () => BlobDatasetDiscovery.DiscoverAsync(store, "classes/", null, Million, Options, CancellationToken.None));
        Assert.Contains("30,000 images", refused.Message);
        Assert.Equal(30_000, store.Listed);
    }

    [Fact]
    public async Task APrefixWithinTheLimitIsListedWhole()
    {
        var store = new GeneratedListingStore("small/", i => $"test/{(i < 500 ? "crack" : "good")}/{i:D7}.png", 1_000);
        var dataset = await BlobDatasetDiscovery.DiscoverAsync(store, "small/", null, Million, Options, CancellationToken.None);
        Assert.Equal(1_000, dataset.ImageCount);
        Assert.Equal(500, dataset.Folders.Single(folder => folder.Label == "crack").Files);
    }

    /// <summary>
    /// A read-only store whose blobs are <paramref name="count"/> generated names below <paramref name="root"/> (in ordinal
    /// order, as the store contract lists them), made as they are enumerated; counts the names it handed out.
    /// </summary>
    private sealed class GeneratedListingStore(string root, Func<int, string> name, int count) : IBlobStore
    {
        public int Listed { get; private set; }

        public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            var names = Enumerable.Range(0, count).Select(i => root + name(i));
            foreach (var blob in names.Where(blob => blob.StartsWith(prefix, StringComparison.Ordinal)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                Listed++;
                yield return new BlobEntry(blob, 1, DateTimeOffset.UnixEpoch);
            }
        }

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
