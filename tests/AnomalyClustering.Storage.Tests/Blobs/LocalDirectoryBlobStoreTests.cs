using System.Text;

namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>What only the local store must show: where files go, atomic writes, no escape from its folder, typed clashes.</summary>
public sealed class LocalDirectoryBlobStoreTests : IDisposable
{
    private readonly string parent = Directory.CreateTempSubdirectory("local-store-").FullName;

    private string Root => Path.Combine(parent, "store");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(parent, recursive: true);

    [Fact]
    public async Task BlobsAreFilesUnderBlobsAndStagingIsLeftEmpty()
    {
        var store = new LocalDirectoryBlobStore(Root);
        await store.PutAsync("features/v1/ab/abc.bag", new MemoryStream("bag"u8.ToArray()), cancellationToken: Token);

        Assert.Equal("bag", await File.ReadAllTextAsync(Path.Combine(Root, "blobs", "features", "v1", "ab", "abc.bag"), Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "staging")));
    }

    [Fact]
    public void AFileWhereTheStoreFolderShouldBeIsATypedErrorNamingIt()
    {
        // Before: "Could not find a part of the path '.../blobs/'" (the CLI's --store naming a file).
        File.WriteAllText(Root, "not a folder");
        Assert.Contains("is a file; give a folder", Assert.Throws<BlobStoreException>(() => new LocalDirectoryBlobStore(Root)).Message, StringComparison.Ordinal);
        Assert.Contains($"'{Root}' is a file", Assert.Throws<BlobStoreException>(() => new LocalDirectoryBlobStore(Path.Combine(Root, "below"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteThatFailsMidwayKeepsTheOldContentAndLeavesNoFiles()
    {
        var store = new LocalDirectoryBlobStore(Root);
        await store.PutAsync("result.json", new MemoryStream("old"u8.ToArray()), cancellationToken: Token);

        await Assert.ThrowsAsync<IOException>(() => store.PutAsync("result.json", new FailingStream(bytesBeforeFailure: 100_000), cancellationToken: Token));
        await Assert.ThrowsAsync<IOException>(() => store.PutAsync("fresh.json", new FailingStream(bytesBeforeFailure: 10), cancellationToken: Token));

        Assert.Equal("old", await File.ReadAllTextAsync(Path.Combine(Root, "blobs", "result.json"), Token));
        Assert.False(await store.ExistsAsync("fresh.json", Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "staging")));
    }

    [Fact]
    public async Task NamesCannotReachFilesOutsideTheStore()
    {
        var secret = Path.Combine(parent, "secret.txt");
        await File.WriteAllTextAsync(secret, "secret", Token);
        var store = new LocalDirectoryBlobStore(Root);

        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.OpenReadAsync("../../secret.txt", Token));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.PutAsync("../secret.txt", new MemoryStream(), cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidBlobNameException>(() => store.DeleteAsync("x/../../../secret.txt", Token));
        // The staging folder is outside the blob namespace: "staging/..." is an ordinary blob under blobs/.
        await store.PutAsync("staging/x", new MemoryStream("x"u8.ToArray()), cancellationToken: Token);

        Assert.Equal("secret", await File.ReadAllTextAsync(secret, Token));
        Assert.True(File.Exists(Path.Combine(Root, "blobs", "staging", "x")));
    }

    [Fact]
    public async Task ABlobAndAFolderOfTheSameNameClashWithATypedError()
    {
        var store = new LocalDirectoryBlobStore(Root);
        await store.PutAsync("a", new MemoryStream("file"u8.ToArray()), cancellationToken: Token);
        await store.PutAsync("b/c", new MemoryStream("nested"u8.ToArray()), cancellationToken: Token);

        var underFile = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("a/b", new MemoryStream(), cancellationToken: Token));
        var overFolder = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("b", new MemoryStream(), cancellationToken: Token));

        Assert.Contains("'a'", underFile.Message, StringComparison.Ordinal);
        Assert.Contains("'b' is already a folder", overFolder.Message, StringComparison.Ordinal);
        Assert.Equal("file", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(Root, "blobs", "a"), Token)));
    }

    [Fact]
    public async Task DeletingTheLastBlobOfAFolderRemovesTheEmptyFolders()
    {
        var store = new LocalDirectoryBlobStore(Root);
        await store.PutAsync("x/y/z.bin", new MemoryStream("z"u8.ToArray()), cancellationToken: Token);
        await store.PutAsync("x/keep.bin", new MemoryStream("k"u8.ToArray()), cancellationToken: Token);

        Assert.True(await store.DeleteAsync("x/y/z.bin", Token));

        Assert.False(Directory.Exists(Path.Combine(Root, "blobs", "x", "y")));
        Assert.True(Directory.Exists(Path.Combine(Root, "blobs", "x")));
        // The freed name can now be a blob itself.
        await store.PutAsync("x/y", new MemoryStream("y"u8.ToArray()), cancellationToken: Token);
        Assert.True(await store.ExistsAsync("x/y", Token));
    }

    [Fact]
    public async Task OpeningTheFolderRemovesAbandonedStagingFilesOnly()
    {
        _ = new LocalDirectoryBlobStore(Root);
        var abandoned = Path.Combine(Root, "staging", "abandoned");
        var recent = Path.Combine(Root, "staging", "recent");
        await File.WriteAllTextAsync(abandoned, "x", Token);
        await File.WriteAllTextAsync(recent, "x", Token);
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow - LocalDirectoryBlobStore.AbandonedStagingAge - TimeSpan.FromHours(1));

        _ = new LocalDirectoryBlobStore(Root);

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(recent));
    }

    [Fact]
    public async Task ABlobBeingReadCanBeReplaced()
    {
        var store = new LocalDirectoryBlobStore(Root);
        await store.PutAsync("r.bin", new MemoryStream("old content"u8.ToArray()), cancellationToken: Token);

        await using var reader = await store.OpenReadAsync("r.bin", Token);
        await store.PutAsync("r.bin", new MemoryStream("new"u8.ToArray()), cancellationToken: Token);
        using var copy = new MemoryStream();
        await reader.CopyToAsync(copy, Token);

        Assert.Equal("old content", Encoding.UTF8.GetString(copy.ToArray()));
        Assert.Equal("new", await File.ReadAllTextAsync(Path.Combine(Root, "blobs", "r.bin"), Token));
    }

    /// <summary>A source that yields zero bytes for a while and then fails, as a dropped upload would.</summary>
    private sealed class FailingStream(int bytesBeforeFailure) : ReadOnlyTestStream
    {
        private int remaining = bytesBeforeFailure;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (remaining <= 0)
            {
                throw new IOException("the source failed midway");
            }
            var n = Math.Min(count, remaining);
            Array.Clear(buffer, offset, n);
            remaining -= n;
            return n;
        }
    }
}
