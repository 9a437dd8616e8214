using System.Security.Cryptography;
using System.Text;
using AnomalyClustering.Core.Embeddings;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>
/// The behaviour every <see cref="IBlobStore"/> promises, run against each implementation by a subclass:
/// round trips, overwrite and conditional create, not-found errors, existence, ordered prefix listing,
/// deletion, name validation and cancellation.
/// </summary>
public abstract class BlobStoreContractTests
{
    /// <summary>A new, empty store for one test.</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static MemoryStream Content(string text) => new(Encoding.UTF8.GetBytes(text));

    private static async Task<byte[]> ReadAllAsync(IBlobStore store, string name)
    {
        await using var stream = await store.OpenReadAsync(name, Token);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Token);
        return copy.ToArray();
    }

    [Fact]
    public async Task PutThenOpenReadReturnsTheSameBytes()
    {
        var store = await CreateStoreAsync();
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        await store.PutAsync("images/job-1/0001.png", new MemoryStream(bytes), cancellationToken: Token);

        var read = await ReadAllAsync(store, "images/job-1/0001.png");

        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(read));
        Assert.Equal(bytes.Length, read.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20_000)]
    [InlineData(AzureBlobStore.SingleRequestBytes)]
    [InlineData(AzureBlobStore.SingleRequestBytes + 100_001)]
    public async Task AStreamOfUnknownLengthRoundTrips(int length)
    {
        // As an HTTP upload's file parts arrive: no length, short reads. The Azure store reads short ones whole and puts
        // back what it read in front of long ones; the sizes straddle that limit.
        var store = await CreateStoreAsync();
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        await store.PutAsync("streamed/image.bin", new ChunkedStream(bytes, 7_777), cancellationToken: Token);

        var read = await ReadAllAsync(store, "streamed/image.bin");

        Assert.Equal(bytes.Length, read.Length);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(read));
    }

    [Fact]
    public async Task ASeekableReadReadsAnyRangeAndAMissingBlobIsNotFound()
    {
        var store = await CreateStoreAsync();
        var bytes = new byte[3_000_000];
        new Random(11).NextBytes(bytes);
        await store.PutAsync("parts/big.bin", new MemoryStream(bytes), cancellationToken: Token);

        await using (var stream = await store.OpenSeekableReadAsync("parts/big.bin", Token))
        {
            Assert.True(stream.CanSeek);
            Assert.Equal(bytes.Length, stream.Length);
            // As a Parquet reader goes: the footer's length at the end, the footer, then row groups anywhere.
            foreach (var at in new[] { bytes.Length - 8, 2_990_000, 10, 1_700_000, 1_700_100 })
            {
                stream.Seek(at, SeekOrigin.Begin);
                var read = new byte[Math.Min(5000, bytes.Length - at)];
                await stream.ReadExactlyAsync(read, Token);
                Assert.Equal(bytes.AsSpan(at, read.Length).ToArray(), read);
            }
            stream.Seek(-3, SeekOrigin.End);
            var tail = new byte[10];
            Assert.Equal(3, await stream.ReadAtLeastAsync(tail, 10, throwOnEndOfStream: false, Token));
            Assert.Equal(bytes[^3..], tail[..3]);
        }
        await Assert.ThrowsAsync<BlobNotFoundException>(() => store.OpenSeekableReadAsync("parts/missing.bin", Token));
    }

    [Fact]
    public async Task EmptyBlobsAndUnusualCharactersRoundTrip()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("empty.bin", new MemoryStream(), cancellationToken: Token);
        await store.PutAsync("images/line 1/Ähre #2+x=y.png", Content("unicode"), cancellationToken: Token);

        Assert.Empty(await ReadAllAsync(store, "empty.bin"));
        Assert.Equal("unicode", Encoding.UTF8.GetString(await ReadAllAsync(store, "images/line 1/Ähre #2+x=y.png")));
    }

    [Fact]
    public async Task PutReadsTheStreamFromItsCurrentPosition()
    {
        var store = await CreateStoreAsync();
        var stream = Content("skip:kept");
        stream.Position = 5;
        await store.PutAsync("partial.txt", stream, cancellationToken: Token);

        Assert.Equal("kept", Encoding.UTF8.GetString(await ReadAllAsync(store, "partial.txt")));
    }

    [Fact]
    public async Task OverwriteReplacesTheContent()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("results/job.json", Content("first"), cancellationToken: Token);
        await store.PutAsync("results/job.json", Content("second, longer"), overwrite: true, Token);

        Assert.Equal("second, longer", Encoding.UTF8.GetString(await ReadAllAsync(store, "results/job.json")));
    }

    [Fact]
    public async Task ConditionalCreateFailsWhenTheBlobExistsAndKeepsItsContent()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("lock/owner", Content("first"), overwrite: false, Token);

        var error = await Assert.ThrowsAsync<BlobAlreadyExistsException>(
            () => store.PutAsync("lock/owner", Content("second"), overwrite: false, Token));

        Assert.Equal("lock/owner", error.BlobName);
        Assert.Contains("'lock/owner'", error.Message, StringComparison.Ordinal);
        Assert.Equal("first", Encoding.UTF8.GetString(await ReadAllAsync(store, "lock/owner")));
    }

    [Fact]
    public async Task ReadingAMissingBlobThrowsBlobNotFoundNamingIt()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("present/a.bin", Content("x"), cancellationToken: Token);

        var error = await Assert.ThrowsAsync<BlobNotFoundException>(() => store.OpenReadAsync("present/missing.bin", Token));
        Assert.Equal("present/missing.bin", error.BlobName);
        Assert.Contains("'present/missing.bin'", error.Message, StringComparison.Ordinal);
        // A "folder" of blobs is not a blob either.
        await Assert.ThrowsAsync<BlobNotFoundException>(() => store.OpenReadAsync("present", Token));
    }

    [Fact]
    public async Task ExistsAndDeleteFollowTheBlobsLife()
    {
        var store = await CreateStoreAsync();
        Assert.False(await store.ExistsAsync("a/b/c.bin", Token));
        Assert.False(await store.DeleteAsync("a/b/c.bin", Token));

        await store.PutAsync("a/b/c.bin", Content("x"), cancellationToken: Token);
        Assert.True(await store.ExistsAsync("a/b/c.bin", Token));
        Assert.False(await store.ExistsAsync("a/b", Token));

        Assert.True(await store.DeleteAsync("a/b/c.bin", Token));
        Assert.False(await store.ExistsAsync("a/b/c.bin", Token));
        Assert.False(await store.DeleteAsync("a/b/c.bin", Token));
        Assert.Empty(await ListAsync(store, ""));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => store.OpenReadAsync("a/b/c.bin", Token));
    }

    [Fact]
    public async Task ListingReturnsThePrefixsBlobsInOrdinalOrderWithSizes()
    {
        var store = await CreateStoreAsync();
        var before = DateTimeOffset.UtcNow;
        // '-' < '.' < '/' < '0' in ordinal order: the interleaving a folder walk must reproduce.
        string[] names = ["img/b/c/d.png", "img/a0.png", "other/z.png", "img/a/b.png", "img-x.png", "img/a.png"];
        foreach (var name in names)
        {
            await store.PutAsync(name, Content(new string('x', name.Length)), cancellationToken: Token);
        }

        var all = await ListAsync(store, "");
        Assert.Equal(["img-x.png", "img/a.png", "img/a/b.png", "img/a0.png", "img/b/c/d.png", "other/z.png"], all.Select(e => e.Name));
        Assert.All(all, e => Assert.Equal(e.Name.Length, e.Size));
        // Clocks of the emulator and of this process may differ a little; the stamp must still be this run's.
        Assert.All(all, e => Assert.InRange(e.LastModified, before.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(10)));

        Assert.Equal(["img/a.png", "img/a/b.png", "img/a0.png", "img/b/c/d.png"], (await ListAsync(store, "img/")).Select(e => e.Name));
        Assert.Equal(["img/a.png", "img/a/b.png", "img/a0.png"], (await ListAsync(store, "img/a")).Select(e => e.Name));
        Assert.Equal(["img/a/b.png"], (await ListAsync(store, "img/a/")).Select(e => e.Name));
        Assert.Equal(["img-x.png", "img/a.png", "img/a/b.png", "img/a0.png", "img/b/c/d.png"], (await ListAsync(store, "img")).Select(e => e.Name));
        Assert.Empty(await ListAsync(store, "nothing/"));
        Assert.Empty(await ListAsync(store, "img/c"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/absolute.bin")]
    [InlineData("../escape.bin")]
    [InlineData("a/../../escape.bin")]
    [InlineData("a/./b.bin")]
    [InlineData("a//b.bin")]
    [InlineData("folder/")]
    [InlineData("back\\slash.bin")]
    [InlineData("new\nline.bin")]
    public async Task InvalidNamesAreRejectedByEveryOperation(string name)
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.PutAsync(name, Content("x"), cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.OpenReadAsync(name, Token));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.ExistsAsync(name, Token));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.DeleteAsync(name, Token));
        Assert.Empty(await ListAsync(store, ""));
    }

    [Fact]
    public async Task TooLongNamesAndEscapingPrefixesAreRejected()
    {
        var store = await CreateStoreAsync();
        var longName = string.Join('/', Enumerable.Repeat(new string('n', 100), 11));

        var error = await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.PutAsync(longName, Content("x"), cancellationToken: Token));
        Assert.Contains("1024", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => ListAsync(store, "../"));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => ListAsync(store, "/img"));
    }

    [Fact]
    public async Task ACancelledWriteWritesNothing()
    {
        var store = await CreateStoreAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("cancelled.bin", Content("x"), cancellationToken: cancelled.Token));

        Assert.False(await store.ExistsAsync("cancelled.bin", Token));
    }

    [Fact]
    public async Task AFeatureCacheRoundTripsThroughTheStore()
    {
        var cache = new FeatureCache(await CreateStoreAsync());
        var key = FeatureCacheKey.Create(FeatureCacheKey.HashImage("image"u8), "backbone-identity", new PatchEmbeddingOptions());
        // 400 KB: several format chunks, and more than one read from a network stream.
        var data = Enumerable.Range(0, 28 * 28 * 128).Select(i => MathF.Sin(i * 0.01f)).ToArray();

        Assert.Null(await cache.TryGetAsync(key, Token));
        await cache.PutAsync(key, new PatchBag(data, 28, 28, 128), Token);
        var hit = await cache.TryGetAsync(key, Token);

        Assert.NotNull(hit);
        Assert.Equal(data, hit.Data);
        Assert.Equal((1L, 1L, 0L), (cache.Hits, cache.Misses, cache.CorruptEntries));
    }

    /// <summary>A stream of unknown length that hands out at most <paramref name="chunk"/> bytes per read.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : ReadOnlyTestStream
    {
        private int position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = Math.Min(Math.Min(count, chunk), bytes.Length - position);
            bytes.AsSpan(position, read).CopyTo(buffer.AsSpan(offset));
            position += read;
            return read;
        }
    }

    private static async Task<List<BlobEntry>> ListAsync(IBlobStore store, string prefix)
    {
        var entries = new List<BlobEntry>();
        await foreach (var entry in store.ListAsync(prefix, Token))
        {
            entries.Add(entry);
        }
        return entries;
    }
}

/// <summary>The contract against <see cref="LocalDirectoryBlobStore"/> in a temporary folder per test.</summary>
public sealed class LocalDirectoryBlobStoreContractTests : BlobStoreContractTests, IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("blob-store-").FullName;

    /// <inheritdoc />
    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalDirectoryBlobStore(root));

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(root, recursive: true);
}

/// <summary>The contract against <see cref="AzureBlobStore"/> on a real Azurite, a new container per test.</summary>
public sealed class AzureBlobStoreContractTests(AzuriteFixture azurite) : BlobStoreContractTests, IClassFixture<AzuriteFixture>
{
    /// <inheritdoc />
    protected override Task<IBlobStore> CreateStoreAsync() => AzuriteStores.NewContainerAsync(azurite);

    [Fact]
    public async Task ConnectCreatesAMissingContainerAndReusesAnExistingOne()
    {
        if (azurite.SkipReason is not null)
        {
            Assert.Skip(azurite.SkipReason);
        }
        var container = "reuse-" + Guid.NewGuid().ToString("N")[..12];
        var first = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, container, TestContext.Current.CancellationToken);
        await first.PutAsync("kept.txt", new MemoryStream("kept"u8.ToArray()), cancellationToken: TestContext.Current.CancellationToken);

        var second = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, container, TestContext.Current.CancellationToken);

        Assert.Equal(first.ContainerUri, second.ContainerUri);
        Assert.True(await second.ExistsAsync("kept.txt", TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(30_000, 1)]
    [InlineData(AzureBlobStore.SingleRequestBytes, 1)]
    [InlineData(AzureBlobStore.SingleRequestBytes + 1, 2)]
    public async Task AShortStreamOfUnknownLengthGoesUpInOneRequest(int length, int expectedRequests)
    {
        if (azurite.SkipReason is not null)
        {
            Assert.Skip(azurite.SkipReason);
        }
        var requests = new RequestCounter();
        var options = AzureBlobStore.CreateClientOptions();
        options.AddPolicy(requests, HttpPipelinePosition.PerCall);
        var container = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient("count-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: TestContext.Current.CancellationToken);
        var store = new AzureBlobStore(container);
        var bytes = new byte[length];
        new Random(3).NextBytes(bytes);
        requests.Count = 0;

        await store.PutAsync("one.bin", new NonSeekable(bytes), cancellationToken: TestContext.Current.CancellationToken);

        // One Put Blob, where the SDK alone would stage a block and commit a block list; a long stream still goes in blocks.
        Assert.Equal(expectedRequests, requests.Count);
        Assert.Equal(length, (await store.ReadAllBytesAsync("one.bin", length, TestContext.Current.CancellationToken)).Length);
    }

    [Fact]
    public async Task ASeekableReadDownloadsTheRangesReadNotTheBlob()
    {
        if (azurite.SkipReason is not null)
        {
            Assert.Skip(azurite.SkipReason);
        }
        var downloaded = new BlobDownloadCounter();
        var options = AzureBlobStore.CreateClientOptions();
        options.AddPolicy(downloaded, HttpPipelinePosition.PerRetry);
        var container = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient("seek-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: TestContext.Current.CancellationToken);
        IBlobStore store = new AzureBlobStore(container);
        const int mebibyte = 1024 * 1024;
        var bytes = new byte[12 * mebibyte];
        new Random(5).NextBytes(bytes);
        await store.PutAsync("part.parquet", new MemoryStream(bytes), cancellationToken: TestContext.Current.CancellationToken);
        downloaded.Bytes = 0;

        await using (var stream = await store.OpenSeekableReadAsync("part.parquet", TestContext.Current.CancellationToken))
        {
            // What a page of a compacted decision part reads: the footer at the end, and one row group in the middle.
            foreach (var (at, length) in new[] { (bytes.Length - 8, 8), (bytes.Length - 50_000, 49_992), (5_000_000, 300_000) })
            {
                stream.Seek(at, SeekOrigin.Begin);
                var read = new byte[length];
                await stream.ReadExactlyAsync(read, TestContext.Current.CancellationToken);
                Assert.Equal(bytes.AsSpan(at, length).ToArray(), read);
            }
        }

        // The ranges read, each in buffers of AzureBlobStore.SeekableReadBufferBytes (256 KiB): well under 2 MiB, not the blob's 12.
        Assert.InRange(downloaded.Bytes, 300_000, 2 * mebibyte + 50_000);
    }

    /// <summary>Counts the requests the client sends.</summary>
    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        public int Count { get; set; }

        public override void OnSendingRequest(HttpMessage message) => Count++;
    }

    /// <summary>A memory stream that hides its length.</summary>
    private sealed class NonSeekable(byte[] bytes) : ReadOnlyTestStream
    {
        private readonly MemoryStream inner = new(bytes);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Upper")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    [InlineData("under_score")]
    public async Task InvalidContainerNamesAreRejectedBeforeAnyRequest(string container)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => AzureBlobStore.ConnectAsync("UseDevelopmentStorage=true", container, TestContext.Current.CancellationToken));
        Assert.Contains(container, error.Message, StringComparison.Ordinal);
    }
}
