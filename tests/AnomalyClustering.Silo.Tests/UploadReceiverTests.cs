using System.Collections.Concurrent;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The upload receiver on its own: small files are written in the background, several at once, large ones stream through,
/// and a failed write fails the upload without leaving any of its files behind, even those still being written.
/// </summary>
public sealed class UploadReceiverTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("upload-receiver-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SmallAndLargeFilesAreStoredWhole()
    {
        var store = new LocalDirectoryBlobStore(_root);
        var files = Files(30, 12_000);
        // Over the buffered size: this one streams through after what was read of it.
        files.Insert(11, ("large/over.png", RandomBytes(UploadReceiver.BufferedFileBytes + 100_003, 99)));

        var received = await ReceiveAsync(store, "whole", files);

        Assert.Equal(files.Select(f => f.Name), received.ImageNames);
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, await store.ReadAllBytesAsync($"uploads/whole/images/{name}", cancellationToken: Token));
        }
    }

    [Fact]
    public async Task AFailedWriteFailsTheUploadAndLeavesNoFileBehind()
    {
        var store = new SlowStore(new LocalDirectoryBlobStore(_root), failing: "good/0017.png");
        var files = Files(40, 5_000);

        var error = await Assert.ThrowsAsync<BlobStoreException>(() => ReceiveAsync(store, "failed", files));

        Assert.Contains("0017", error.Message, StringComparison.Ordinal);
        // The failure stopped the upload early: the rest of the body was never written.
        Assert.InRange(store.Writes, 18, 30);
        // Writes that were running when the failure surfaced finished before the clean-up, so it removed them too: nothing
        // lands after it.
        await store.AllWritesEnded();
        Assert.Empty(await store.ListAsync("uploads/failed/", Token).ToListAsync(Token));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static List<(string Name, byte[] Bytes)> Files(int count, int size) =>
        Enumerable.Range(0, count).Select(i => ($"good/{i:D4}.png", RandomBytes(size, i))).ToList();

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<ReceivedUpload> ReceiveAsync(IBlobStore store, string jobId, IEnumerable<(string Name, byte[] Bytes)> files)
    {
        using var form = new MultipartFormDataContent { { new StringContent(jobId), "jobId" } };
        foreach (var (name, bytes) in files)
        {
            form.Add(new ByteArrayContent(bytes), "images", name);
        }
        var body = new MemoryStream();
        await form.CopyToAsync(body, Token);
        body.Position = 0;
        var context = new DefaultHttpContext();
        context.Request.ContentType = form.Headers.ContentType!.ToString();
        context.Request.Body = body;
        var options = Options.Create(new JobApiOptions { MaxUploadFileBytes = 16 << 20 });
        var receiver = new UploadReceiver(store, options, new BackboneCatalog(Options.Create(new BackboneHostOptions())));
        return await receiver.ReceiveAsync(context.Request, _ => Task.FromResult(false), Token);
    }

    /// <summary>A store whose writes each take a while, and whose write of one blob fails at once.</summary>
    private sealed class SlowStore(IBlobStore inner, string failing) : IBlobStore
    {
        private readonly ConcurrentQueue<Task> _writes = new();

        public int Writes => _writes.Count;

        /// <summary>Waits until every write so far has ended, however.</summary>
        public Task AllWritesEnded() => Task.WhenAll(_writes.Select(write => write.ContinueWith(_ => { }, TaskScheduler.Default)));

        public Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
        {
            var write = WriteAsync(name, content, overwrite, cancellationToken);
            _writes.Enqueue(write);
            return write;
        }

        private async Task WriteAsync(string name, Stream content, bool overwrite, CancellationToken cancellationToken)
        {
            if (name.EndsWith(failing, StringComparison.Ordinal))
            {
                // At once, while the writes started before and after it are still running.
                throw new BlobStoreException($"the store refused '{name}'.", name);
            }
            await Task.Delay(200, cancellationToken);
            await inner.PutAsync(name, content, overwrite, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

        public IAsyncEnumerable<BlobEntry> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
    }
}
