using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SkiaSharp;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// The production-line intake queue end to end on one machine: one silo (both roles) with the intake stream on Azurite's
/// queue service and blobs in Azurite, a line made from a small unsupervised job (built-in backbone), then N generated
/// images written under the line and enqueued at once. Prints the throughput (images per second from the first enqueue
/// to the last stored decision) and the decision latency per image, p50 / p99: enqueue to the decision (its DecidedAt,
/// made just before the log write) and enqueue to when a poll of the decision records (every 50 ms) first saw it stored.
/// </summary>
internal sealed class LineIntakeBenchmark : IBenchmark
{
    public string Name => "line-intake";

    public string Description =>
        "the line intake queue (Azurite queues + blobs, one in-process silo): images/s and decision latency p50/p99. "
        + "Args: [--images 200] [--queues 4] [--rate R (images/s enqueued, paced; default 0: all at once)] [--model PATH.onnx (default: the built-in backbone)]";

    public void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        var count = BenchmarkArgs.Int(args, "--images", 200);
        var queues = BenchmarkArgs.Int(args, "--queues", 4);
        var rate = double.Parse(BenchmarkArgs.Option(args, "--rate", "0"), CultureInfo.InvariantCulture);
        var model = BenchmarkArgs.OptionalFile(args, "--model");
        var backbone = model is null ? BuiltInBackbone.WholeImageDescription : BenchmarkBackbones.Describe(model);
        var root = BenchmarkArgs.RepositoryRoot();
        await using var azurite = await AzuriteProcess.StartAsync(AzuriteProcess.Launcher(root), accessLog: false, queueLauncher: AzuriteProcess.QueueLauncher(root));
        var store = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, "intake-benchmark");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Blobs"] = azurite.ConnectionString,
            ["AnomalyClustering:Intake:Queue"] = "AzureQueue",
            ["AnomalyClustering:Intake:QueueCount"] = queues.ToString(CultureInfo.InvariantCulture),
            ["AnomalyClustering:Intake:QueueNamePrefix"] = "bench-" + Guid.NewGuid().ToString("N")[..8],
            ["Orleans:SiloPort"] = LoggedProcess.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = LoggedProcess.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture),
        }).Build();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IBlobStore>(store);
        builder.UseOrleans(silo => silo.AddAnomalyClustering(new ClusterHostingOptions(), configuration));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IClusterClient>();

        var line = "bench";
        var prefix = LineCatalogStore.PrefixOf(null, line);
        await CreateLineAsync(store, client, line, prefix, backbone);
        Console.WriteLine($"line '{line}' made from a 24-image unsupervised job (backbone {backbone.Name}); feeding {count} images on {queues} Azure queues"
                          + (rate > 0 ? $", paced at {rate:0.###} images/s" : ", all at once"));

        var random = new Random(17);
        var messages = new List<LineIntakeMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var blob = $"{prefix}incoming/{i}.png";
            await store.PutAsync(blob, new MemoryStream(Plate(random, defect: i % 2)));
            messages.Add(new LineIntakeMessage(line, null, $"img-{i:D5}", blob, $"{i}.png", default));
        }
        var enqueued = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        // The silo's CPU (this process; Azurite is a child process of its own): per image, it does not depend on how
        // loaded the shared machine is, as the wall-clock figures do.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        // Polled from the first enqueue on, alongside the sender: a paced feed's decisions are seen as they are stored, not
        // after the last message was sent.
        var seen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var polling = Task.Run(async () =>
        {
            while (seen.Count < count)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(20))
                {
                    throw new TimeoutException($"{seen.Count} of {count} decisions after 20 minutes");
                }
                await foreach (var entry in store.ListAsync(prefix + "decided/"))
                {
                    seen.TryAdd(entry.Name[(prefix.Length + "decided/".Length)..^".json".Length], DateTimeOffset.UtcNow);
                }
                await Task.Delay(50);
            }
        });
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (rate > 0 && TimeSpan.FromSeconds(i / rate) - clock.Elapsed is { } wait && wait > TimeSpan.Zero)
            {
                // Paced like a camera: latency without a backlog.
                await Task.Delay(wait);
            }
            var now = DateTimeOffset.UtcNow;
            enqueued[message.ImageId] = now;
            await client.SendAsync(message with { EnqueuedAt = now });
        }
        Console.WriteLine($"enqueued {count} messages in {clock.Elapsed.TotalSeconds:F1} s");
        await polling;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var decided = new List<LineDecision>();
        foreach (var id in seen.Keys)
        {
            decided.Add(LineImageDecider.ParseLogged(Encoding.UTF8.GetString(await store.ReadAllBytesAsync($"{prefix}decided/{id}.json"))));
        }
        var first = enqueued.Values.Min();
        var last = seen.Values.Max();
        Console.WriteLine($"{count} decisions ({decided.Count(d => d.Error is not null)} errors; {string.Join(", ", decided.GroupBy(d => d.Decision).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))})");
        Console.WriteLine($"throughput: {count / (last - first).TotalSeconds:F1} images/s ({(last - first).TotalSeconds:F1} s from the first enqueue to the last stored decision)");
        Console.WriteLine($"silo CPU: {cpu.TotalSeconds:F1} s, {cpu.TotalSeconds / count:F3} CPU-s per image ({Environment.ProcessorCount} cores: at most {Environment.ProcessorCount * count / cpu.TotalSeconds:F1} images/s here)");
        Report("enqueue -> decided (DecidedAt)", decided.Select(d => (d.DecidedAt - enqueued[d.ImageId]).TotalMilliseconds));
        Report("enqueue -> seen stored (50 ms poll)", seen.Select(pair => (pair.Value - enqueued[pair.Key]).TotalMilliseconds));
        await host.StopAsync();
    }

    private static void Report(string what, IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        Console.WriteLine($"latency {what}: p50 {At(0.50):F0} ms, p99 {At(0.99):F0} ms, max {sorted[^1]:F0} ms");
    }

    /// <summary>A 24-image unsupervised job (built-in backbone), its result as the catalog's clusters, the job's references as its scoring.</summary>
    private static async Task CreateLineAsync(IBlobStore store, IClusterClient client, string line, string prefix, BackboneDescription backbone)
    {
        var random = new Random(5);
        var images = new List<JobImage>();
        for (var i = 0; i < 24; i++)
        {
            var blob = $"datasets/bench/{i}.png";
            await store.PutAsync(blob, new MemoryStream(Plate(random, defect: i % 2)));
            images.Add(new JobImage($"{i}.png", blob, i % 2 == 0 ? "spot" : "streak"));
        }
        var jobId = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var options = new JobOptions { Clusters = 2 };
        await JobSubmitter.SubmitAsync(store, client, jobId, new JobSubmission(images, [], options, backbone.ToJson(), "benchmark"));
        var coordinator = client.GetGrain<IClusteringJobGrain>(jobId);
        JobStatus status;
        while (!(status = await coordinator.GetStatus()).IsFinished)
        {
            await Task.Delay(200);
        }
        if (status.State != JobState.Completed)
        {
            throw new InvalidOperationException($"the line's job ended {status.State}: {status.Error}");
        }
        var (result, source) = await JobResultFiles.ReadAsync(store, status.ResultBlob!, CancellationToken.None);
        var basis = (await coordinator.GetScoringBasis())!;
        var scoring = new CatalogScoring(jobId, JsonSerializer.Serialize(basis.Options, LineImageDecider.LogJson), basis.BackboneDescriptionJson,
            basis.ReferenceImages, basis.ReferenceFeatureBlobs, basis.ReferencesPerImage, basis.NormalFeatureBlobs);
        await new LineCatalogStore(store).AddAsync(prefix,
            version => JobLineCatalog.Create(line, version, result, source, $"job:{jobId}", AssignmentRuleSettings.Default) with { Scoring = scoring }, CancellationToken.None);
    }

    /// <summary>A 128 x 128 grey plate with noise and a dark spot (defect 0) or streak (defect 1) at a random place.</summary>
    private static byte[] Plate(Random random, int defect)
    {
        using var bitmap = new SKBitmap(128, 128, SKColorType.Gray8, SKAlphaType.Opaque);
        for (var y = 0; y < 128; y++)
        {
            for (var x = 0; x < 128; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(150 + random.Next(-12, 13)), 0, 0));
            }
        }
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true, StrokeWidth = 4 })
        {
            float cx = random.Next(24, 104), cy = random.Next(24, 104);
            if (defect == 0)
            {
                canvas.DrawCircle(cx, cy, random.Next(6, 14), paint);
            }
            else
            {
                canvas.DrawLine(cx - 20, cy - random.Next(-10, 10), cx + 20, cy + random.Next(-10, 10), paint);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
