using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cluster.Tests;

/// <summary>The loopback cluster with production-line intake on Azurite's queue service (two queues, names unique per run).</summary>
public sealed class IntakeQueueCluster : LoopbackCluster
{
    private readonly string queuePrefix = "intake-" + Guid.NewGuid().ToString("N")[..8];

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> IntakeSettings => new Dictionary<string, string>
    {
        ["AnomalyClustering__Intake__Queue"] = "AzureQueue",
        ["AnomalyClustering__Intake__QueueCount"] = "2",
        ["AnomalyClustering__Intake__QueueNamePrefix"] = queuePrefix,
    };
}

/// <summary>
/// The intake queue of a production line on a real cluster: messages on Azure Queue Storage (Azurite) naming image blobs
/// under the line, decided by the consumer on the coordinator through the gpu-worker silos, with one worker killed mid-feed.
/// Every message ends as exactly one logged decision: images as their type or novel, a bad image and a message naming a
/// blob outside the line as typed errors, a message sent twice once.
/// </summary>
public sealed class LineIntakeQueueTests(IntakeQueueCluster cluster) : IClassFixture<IntakeQueueCluster>
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task EveryQueuedImageGetsExactlyOneDecisionWhenAWorkerIsKilledMidFeed()
    {
        cluster.SkipWhenUnavailable();
        var cancellation = TestContext.Current.CancellationToken;
        var jobId = "intake-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.RunJobAsync(jobId, cluster.Specification);
        var line = "line-" + Guid.NewGuid().ToString("N")[..8];
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cluster.Coordinator.HttpPort}/"), Timeout = TimeSpan.FromMinutes(2) })
        using (var created = await http.PostAsJsonAsync("lines", new { name = line, fromJob = jobId }, cancellation))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(cancellation));
        }

        // What an edge gateway does: each image written under the line's folder, then a message naming it.
        var prefix = LineCatalogStore.PrefixOf(null, line);
        var messages = new List<LineIntakeMessage>();
        foreach (var (image, index) in cluster.Dataset.Dataset.Images.Select((image, index) => (image, index)))
        {
            var blob = $"{prefix}incoming/{index}{Path.GetExtension(image.Path)}";
            await using (var file = File.OpenRead(image.Path))
            {
                await cluster.Store.PutAsync(blob, file, cancellationToken: cancellation);
            }
            messages.Add(new LineIntakeMessage(line, null, $"camera-{index:D3}", blob, image.Id, DateTimeOffset.UtcNow));
        }
        await cluster.Store.PutAsync($"{prefix}incoming/bad.png", new MemoryStream("this is text, not a PNG"u8.ToArray()), cancellationToken: cancellation);
        messages.Add(new LineIntakeMessage(line, null, "camera-bad", $"{prefix}incoming/bad.png", "bad.png", DateTimeOffset.UtcNow));
        messages.Add(new LineIntakeMessage(line, null, "camera-outside", cluster.Specification.Images[0].BlobName, "outside.png", DateTimeOffset.UtcNow));
        foreach (var message in messages.Append(messages[0]))
        {
            await cluster.Client.SendAsync(message);
        }

        // A worker dies while images are being decided: its images are redelivered and decided on the other worker.
        var decidedAtKill = await WaitForDecisionsAsync(prefix, messages, count => count >= 1);
        Assert.True(decidedAtKill < messages.Count, $"all {messages.Count} images were decided before the worker could be killed; the feed must run longer.");
        await cluster.KillAsync(cluster.Workers[0]);
        TestContext.Current.TestOutputHelper?.WriteLine($"killed {cluster.Workers[0].Name} after {decidedAtKill} of {messages.Count} decisions");
        await WaitForDecisionsAsync(prefix, messages, count => count == messages.Count);

        // The log buffers decisions before it writes a Parquet part; a reader flushes it first, as the API does.
        await cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix).Flush();
        var logged = (await LineDecisionLog.PageAsync(cluster.Store, prefix, null, null, 1000, null, cancellation)).Decisions;
        Assert.Equal(messages.Select(m => m.ImageId).Order(StringComparer.Ordinal), logged.Select(d => d.ImageId).Order(StringComparer.Ordinal));
        var byId = logged.ToDictionary(d => d.ImageId);
        Assert.Contains(byId["camera-bad"].Error!.Reason, new[] { "not-an-image", "corrupt", "unsupported-format" });
        Assert.Equal(LineDecision.ErrorDecision, byId["camera-bad"].Decision);
        Assert.Equal("invalid-message", byId["camera-outside"].Error!.Reason);
        var images = logged.Where(d => d.ImageId.StartsWith("camera-0", StringComparison.Ordinal)).ToList();
        Assert.Equal(cluster.Dataset.Dataset.Images.Count, images.Count);
        Assert.All(images, d => Assert.True(d.Error is null && d.Distances.Count > 0 && d.AnomalyScore is not null, JsonSerializer.Serialize(d)));
    }

    /// <summary>Polls the decision records of <paramref name="messages"/> until <paramref name="until"/> holds for their count; returns it.</summary>
    private async Task<int> WaitForDecisionsAsync(string prefix, IReadOnlyList<LineIntakeMessage> messages, Func<int, bool> until)
    {
        var clock = Stopwatch.StartNew();
        var decided = new HashSet<string>(StringComparer.Ordinal);
        while (clock.Elapsed < DecisionTimeout)
        {
            foreach (var message in messages.Where(m => !decided.Contains(m.ImageId)))
            {
                if (await cluster.Store.ExistsAsync(LineBlobNames.DecisionOf(prefix, message.ImageId), TestContext.Current.CancellationToken))
                {
                    decided.Add(message.ImageId);
                }
            }
            if (until(decided.Count))
            {
                return decided.Count;
            }
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        throw new TimeoutException(
            $"{decided.Count} of {messages.Count} images decided after {DecisionTimeout.TotalMinutes:F0} minutes; undecided: {string.Join(", ", messages.Select(m => m.ImageId).Where(id => !decided.Contains(id)).Take(10))}\n{cluster.Diagnostics()}");
    }
}
