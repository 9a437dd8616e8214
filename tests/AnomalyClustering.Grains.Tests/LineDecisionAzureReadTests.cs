using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A page of a line's decision log in a compacted hour on Azure Blob Storage (a real Azurite): the Parquet reader reads the
/// part through the store's ranged read stream, and the page downloads its footer and row groups, not the hour's part.
/// </summary>
public sealed class LineDecisionAzureReadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task APageInACompactedHourOnAzureReadsTheSameRowsAndDownloadsAFractionOfThePart()
    {
        if (azurite.SkipReason is not null)
        {
            Assert.Skip(azurite.SkipReason);
        }
        var cancel = TestContext.Current.CancellationToken;
        var downloaded = new BlobDownloadCounter();
        var options = AzureBlobStore.CreateClientOptions();
        options.AddPolicy(downloaded, HttpPipelinePosition.PerRetry);
        var container = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient("decisions-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: cancel);
        IBlobStore store = new AzureBlobStore(container);
        var prefix = "lines/_/azure-seek/";
        var closed = LineDecisionCompactionTests.Closed;
        // A fast line's hour: 100,000 decisions, compacted into row groups of 4,096 (25 of them).
        var rows = await LineDecisionCompactionTests.WritePartsAsync(store, prefix, closed, parts: 100, rowsPerPart: 1000);
        var before = await LineDecisionLog.PageAsync(store, prefix, closed.AddMinutes(30), null, 100, null, cancel);
        Assert.Equal(closed, await new LineDecisionCompactor(store, prefix, NullLogger.Instance).CompactNextAsync(closed, _ => false, cancel));
        var compacted = Assert.Single(await LineDecisionCompactionTests.EntriesAsync(store, LineBlobNames.DecisionHourFolder(prefix, closed)));
        var page = await LineDecisionLog.PageAsync(store, prefix, closed.AddMinutes(30), null, 100, null, cancel);
        downloaded.Bytes = 0;

        // The next page, as a client walking the log asks for it: from its token, in the middle of the part.
        var next = await LineDecisionLog.PageAsync(store, prefix, closed.AddMinutes(30), null, 100, page.Next, cancel);

        Assert.Equal(before.Decisions.Select(LineDecisionCompactionTests.Json), page.Decisions.Select(LineDecisionCompactionTests.Json));
        Assert.Equal(rows.Where(d => d.DecidedAt >= closed.AddMinutes(30)).Skip(100).Take(100).Select(LineDecisionCompactionTests.Json),
            next.Decisions.Select(LineDecisionCompactionTests.Json));
        // The page: the head, the footer and a row group of 25, in ranges of AzureBlobStore.SeekableReadBufferBytes; the part
        // read whole would be its size. (These rows compress far better than a real line's, whose part is ten times larger
        // for the same footer and ranges.)
        Assert.InRange(downloaded.Bytes, 1, compacted.Size / 3);
    }
}
