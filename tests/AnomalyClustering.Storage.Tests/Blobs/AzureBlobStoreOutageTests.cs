using AnomalyClustering.Testing;
using Azure.Storage.Blobs;

namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>
/// Azurite stopped under a connected <see cref="AzureBlobStore"/>: every operation, once the SDK's own retries give up (an
/// <see cref="AggregateException"/>), fails with the typed <see cref="BlobStoreUnavailableException"/> (an outage callers wait
/// out), not the SDK's exception; with the emulator back the same store works again.
/// </summary>
public sealed class AzureBlobStoreOutageTests
{
    [Fact]
    public async Task EveryOperationOnAStoppedEmulatorIsTheTypedUnavailableError()
    {
        if (AzuriteFixture.MissingReason is { } missing)
        {
            Assert.Skip(missing);
        }
        var cancel = TestContext.Current.CancellationToken;
        await using var azurite = await AzuriteProcess.StartAsync(AzuriteFixture.Launcher, onDisk: true);
        var options = AzureBlobStore.CreateClientOptions();
        // Short retry delays keep the test quick; the number of tries stays the SDK's, so it still ends in its AggregateException.
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        var container = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient("outage-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: cancel);
        var store = new AzureBlobStore(container);
        await store.PutAsync("kept.txt", new MemoryStream("kept"u8.ToArray()), cancellationToken: cancel);

        await azurite.StopAsync();

        var failures = new List<BlobStoreUnavailableException>
        {
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.PutAsync("new.txt", new MemoryStream("new"u8.ToArray()), cancellationToken: cancel)),
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.PutAsync("kept.txt", new MemoryStream("x"u8.ToArray()), overwrite: false, cancellationToken: cancel)),
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync("kept.txt", cancel)),
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.ExistsAsync("kept.txt", cancel)),
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.DeleteAsync("kept.txt", cancel)),
            await Assert.ThrowsAsync<BlobStoreUnavailableException>(async () =>
            {
                await foreach (var _ in store.ListAsync("", cancel))
                {
                }
            }),
        };
        Assert.All(failures, failure =>
        {
            Assert.IsType<AggregateException>(failure.InnerException);
            Assert.Contains("cannot be reached", failure.Message, StringComparison.Ordinal);
        });
        // An outage is still I/O to the callers that retry on it (BoundedFanOut.IsTransient reads IOException).
        Assert.All(failures, failure => Assert.IsAssignableFrom<IOException>(failure));

        await azurite.RestartAsync();
        Assert.True(await store.ExistsAsync("kept.txt", cancel));
    }

    [Fact]
    public async Task ConnectingToAStoppedEmulatorIsTheTypedUnavailableError()
    {
        if (AzuriteFixture.MissingReason is { } missing)
        {
            Assert.Skip(missing);
        }
        string connection;
        await using (var azurite = await AzuriteProcess.StartAsync(AzuriteFixture.Launcher))
        {
            connection = azurite.ConnectionString;
        }
        var failure = await Assert.ThrowsAsync<BlobStoreUnavailableException>(
            () => AzureBlobStore.ConnectAsync(connection, "gone", TestContext.Current.CancellationToken));
        Assert.Contains("cannot be reached", failure.Message, StringComparison.Ordinal);
    }
}
