using System.Runtime.CompilerServices;

namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>
/// Deleting a prefix holds one round of names at a time: each round lists at most a batch, deletes it with no listing
/// open, and lists again, until nothing is left but what the caller keeps.
/// </summary>
public sealed class DeletePrefixTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ac-delete-prefix-").FullName;

    [Fact]
    public async Task EveryBlobButTheKeptOnesIsDeletedInRoundsOfAtMostABatchWithNoListingOpen()
    {
        var store = new RecordingStore(new LocalDirectoryBlobStore(_root));
        for (var i = 0; i < 23; i++)
        {
            await store.PutAsync($"jobs/a/images/{i:D3}", new MemoryStream([1, 2, 3]), cancellationToken: TestContext.Current.CancellationToken);
        }
        await store.PutAsync("jobs/a/result.json", new MemoryStream([1]), cancellationToken: TestContext.Current.CancellationToken);
        await store.PutAsync("jobs/b/images/000", new MemoryStream([1]), cancellationToken: TestContext.Current.CancellationToken);

        await store.DeletePrefixAsync("jobs/a/", keep: name => name == "jobs/a/result.json", batchSize: 5, TestContext.Current.CancellationToken);

        var left = new List<string>();
        await foreach (var entry in store.ListAsync("jobs/", TestContext.Current.CancellationToken))
        {
            left.Add(entry.Name);
        }
        Assert.Equal(["jobs/a/result.json", "jobs/b/images/000"], left.Order(StringComparer.Ordinal));
        Assert.Equal(0, store.DeletesWhileListing);
        // 23 names in rounds of 5: five rounds that delete (5, 5, 5, 5, 3), each after a listing of its own.
        Assert.Equal([5, 5, 5, 5, 3], store.DeletesPerListing.Where(count => count > 0));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Counts the deletions after each listing and those made while a listing is open.</summary>
    private sealed class RecordingStore(IBlobStore inner) : IBlobStore
    {
        private int _openListings;

        public List<int> DeletesPerListing { get; } = [];

        public int DeletesWhileListing { get; private set; }

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default) =>
            inner.PutAsync(name, content, overwrite, cancellationToken);

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            lock (DeletesPerListing)
            {
                DeletesPerListing.Add(0);
                _openListings++;
            }
            try
            {
                await foreach (var entry in inner.ListAsync(prefix, cancellationToken))
                {
                    yield return entry;
                }
            }
            finally
            {
                lock (DeletesPerListing)
                {
                    _openListings--;
                }
            }
        }

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
        {
            lock (DeletesPerListing)
            {
                DeletesPerListing[^1]++;
                DeletesWhileListing += _openListings > 0 ? 1 : 0;
            }
            return inner.DeleteAsync(name, cancellationToken);
        }
    }
}
