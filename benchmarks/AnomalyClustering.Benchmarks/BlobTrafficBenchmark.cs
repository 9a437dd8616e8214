using System.Diagnostics;
using System.Globalization;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// The blob traffic of one cluster job, alone: for each of N images, what the coordinator and a worker do through
/// <see cref="AzureBlobStore"/> against a local Azurite (upload the image, read it, look up its feature-cache entry and
/// miss, write the entry, write the outcome), at the job's concurrency. Prints wall time and the CPU seconds of Azurite
/// and of this (client) process, so that the storage share of the distribution overhead can be seen apart from the rest.
/// </summary>
internal sealed class BlobTrafficBenchmark : IBenchmark
{
    public string Name => "blob-traffic";

    public string Description =>
        "a cluster job's blob traffic against Azurite without the rest of the job: CPU seconds of Azurite and of the client. "
        + "Args: [--images 500] [--image-bytes 40054] [--bag-bytes 802852] [--outcome-bytes 10000] [--parallel 32] [--per-request-kind (each kind of request alone)] [--access-log (Azurite's default; off here)]";

    public void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        var images = BenchmarkArgs.Int(args, "--images", 500);
        // Defaults: a NEU-DET image (200 x 200 8-bit BMP), a ResNet-50 layer2+layer3 patch bag (28 x 28 x 256 floats in
        // PatchBagFormat), an outcome of that grid.
        var imageBytes = BenchmarkArgs.Int(args, "--image-bytes", 40_054);
        var bagBytes = BenchmarkArgs.Int(args, "--bag-bytes", 802_852);
        var outcomeBytes = BenchmarkArgs.Int(args, "--outcome-bytes", 10_000);
        var parallel = BenchmarkArgs.Int(args, "--parallel", 32);
        var launcher = AzuriteProcess.Launcher(BenchmarkArgs.RepositoryRoot());
        if (!File.Exists(launcher))
        {
            throw new InvalidOperationException($"Azurite is not installed ({launcher}); run: npm ci --prefix tools/azurite");
        }
        await using var azurite = await AzuriteProcess.StartAsync(launcher, accessLog: args.Contains("--access-log"));
        var store = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, "traffic");
        var random = new Random(7);
        var image = new byte[imageBytes];
        var bag = new byte[bagBytes];
        var outcome = new byte[outcomeBytes];
        random.NextBytes(image);
        random.NextBytes(bag);
        random.NextBytes(outcome);

        if (args.Contains("--per-request-kind"))
        {
            await MeasureEachKindAsync(store, azurite, images, parallel, image, bag, outcome);
            return;
        }

        // A warm-up round (JIT, connections), then the measured one.
        foreach (var round in new[] { "warm-up", "measured" })
        {
            var count = round == "warm-up" ? Math.Min(50, images) : images;
            var azuriteBefore = azurite.TotalProcessorTime;
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, cancellationToken) =>
            {
                var name = $"{round}/{i:D5}";
                await store.PutAsync($"uploads/{name}.bmp", new MemoryStream(image, writable: false), cancellationToken: cancellationToken);
                _ = await store.ReadAllBytesAsync($"uploads/{name}.bmp", imageBytes, cancellationToken);
                try
                {
                    await using var miss = await store.OpenReadAsync($"features/{name}.bag", cancellationToken);
                }
                catch (BlobNotFoundException)
                {
                    // The feature-cache miss of a first job.
                }
                await store.PutAsync($"features/{name}.bag", new MemoryStream(bag, writable: false), cancellationToken: cancellationToken);
                await store.PutAsync($"outcomes/{name}.bin", new MemoryStream(outcome, writable: false), cancellationToken: cancellationToken);
            });
            var seconds = clock.Elapsed.TotalSeconds;
            var azuriteCpu = (azurite.TotalProcessorTime - azuriteBefore).TotalSeconds;
            var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalSeconds;
            Console.WriteLine($"{round}: {count} images, {count * 5} requests, {count * (2.0 * imageBytes + bagBytes + outcomeBytes) / 1e6:F0} MB in {seconds:F1} s; "
                              + $"CPU s: Azurite {azuriteCpu:F1}, client {clientCpu:F1} ({1000 * (azuriteCpu + clientCpu) / count:F1} ms per image)");
        }
    }

    /// <summary>Each kind of request of the job alone, N of them: where the emulator's CPU goes.</summary>
    private static async Task MeasureEachKindAsync(IBlobStore store, AzuriteProcess azurite, int count, int parallel, byte[] image, byte[] bag, byte[] outcome)
    {
        var kinds = new (string Kind, Func<int, CancellationToken, Task> Request)[]
        {
            ("upload image (PUT)", (i, ct) => store.PutAsync($"kinds/uploads/{i:D5}.bmp", new MemoryStream(image, writable: false), cancellationToken: ct)),
            ("read image (GET)", async (i, ct) => _ = await store.ReadAllBytesAsync($"kinds/uploads/{i:D5}.bmp", image.Length, ct)),
            ("feature-cache miss (GET 404)", async (i, ct) =>
            {
                try
                {
                    await using var miss = await store.OpenReadAsync($"kinds/features/{i:D5}.bag", ct);
                }
                catch (BlobNotFoundException)
                {
                    // The miss itself is what is measured.
                }
            }),
            ("feature-cache entry (PUT)", (i, ct) => store.PutAsync($"kinds/features/{i:D5}.bag", new MemoryStream(bag, writable: false), cancellationToken: ct)),
            ("outcome (PUT)", (i, ct) => store.PutAsync($"kinds/outcomes/{i:D5}.bin", new MemoryStream(outcome, writable: false), cancellationToken: ct)),
        };
        foreach (var (kind, request) in kinds)
        {
            var azuriteBefore = azurite.TotalProcessorTime;
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) => await request(i, ct));
            Console.WriteLine($"{kind,-30} x{count}: {clock.Elapsed.TotalSeconds:F1} s; CPU s: Azurite {(azurite.TotalProcessorTime - azuriteBefore).TotalSeconds:F2}, "
                              + $"client {(Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalSeconds:F2}");
        }
    }
}
