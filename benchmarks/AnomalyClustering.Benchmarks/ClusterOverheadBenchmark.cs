using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// The distribution overhead: one job over the same N images (default 500 of NEU-DET from ../shared, ResNet-50
/// layer2+layer3, the CLI's defaults) run by the single-process CLI (<c>anomaly-cluster cluster --model</c>, a child
/// process) and by a cluster of separate processes on this machine (redis-server, Azurite, one coordinator silo and
/// gpu-worker silos, the job submitted through an Orleans client). Prints both wall times, the stage timings of both result
/// documents and the CPU seconds of every silo during the job, and checks that both produced the same clusters.
/// </summary>
internal sealed class ClusterOverheadBenchmark : IBenchmark
{
    private const string Container = "anomaly-clustering";

    public string Name => "cluster-overhead";

    public string Description =>
        "a job on a local 3-process cluster (Redis, Azurite, coordinator + 2 gpu-workers) vs the single-process CLI on the same images. "
        + "Args: [--data DIR (MVTec-style test/<class>/; default ../shared/data/neu_det)] [--images 500] [--model PATH.onnx (default ../shared resnet50 layer2+layer3)] "
        + "[--workers 2] [--worker-threads 0 (ONNX intra-op threads per worker; 0 = all cores)] [--in-flight 32] [--silo PATH.dll] [--cli PATH.dll (published builds to run)] [--skip-cli] [--rerun (a second, cached job)] [--remote-cli (time `cluster --server` instead of an Orleans client's job)]";

    public void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        var repository = BenchmarkArgs.RepositoryRoot();
        var shared = BenchmarkArgs.SharedFolder();
        var data = BenchmarkArgs.Option(args, "--data", Path.Combine(shared, "data", "neu_det"));
        var imageCount = BenchmarkArgs.Int(args, "--images", 500);
        var model = Path.GetFullPath(BenchmarkArgs.Option(args, "--model", Path.Combine(shared, "models", "resnet50_imagenet_layer2_layer3.onnx")));
        var workerCount = BenchmarkArgs.Int(args, "--workers", 2);
        var workerThreads = BenchmarkArgs.Option(args, "--worker-threads", "0");
        var inFlight = BenchmarkArgs.Option(args, "--in-flight", "32");

        // --silo/--cli: published builds (ReadyToRun, as the container images ship them) instead of this build's own.
        var silo = BenchmarkArgs.OptionalFile(args, "--silo") ?? SiloProcess.FindAssembly(typeof(ClusterOverheadBenchmark).Assembly, repository)
            ?? throw new InvalidOperationException("the silo host is not built; run: dotnet build -c Release src/AnomalyClustering.Silo");
        var cli = BenchmarkArgs.OptionalFile(args, "--cli") ?? Recorded("CliAssembly")
            ?? throw new InvalidOperationException("the CLI is not built; run: dotnet build -c Release src/AnomalyClustering.Cli");
        var redisExecutable = RedisServer.FindExecutable() ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server).");
        var azuriteLauncher = AzuriteProcess.Launcher(repository);
        if (!File.Exists(azuriteLauncher))
        {
            throw new InvalidOperationException($"Azurite is not installed ({azuriteLauncher}); run: npm ci --prefix tools/azurite");
        }

        var work = Directory.CreateTempSubdirectory("cluster-overhead-").FullName;
        try
        {
            var subset = WriteSubset(data, imageCount, Path.Combine(work, "images"));
            var description = BenchmarkBackbones.Describe(model);
            Console.WriteLine($"{subset.Count} images of {data} ({string.Join(", ", subset.GroupBy(i => i.Label).Select(g => $"{g.Key} {g.Count()}"))}); backbone {description.Name}; "
                              + $"{Environment.ProcessorCount} cores; silo {silo}");

            ClusteringResult? cliResult = null;
            double cliSeconds = 0;
            if (!args.Contains("--skip-cli"))
            {
                (cliResult, cliSeconds, var cliCpu) = RunCli(cli, Path.Combine(work, "images"), model, Path.Combine(work, "cli-out"));
                Console.WriteLine($"CLI: {cliSeconds:F1} s wall (process start to exit), {cliCpu:F1} CPU s; stages {Stages(cliResult)}; NMI {cliResult.Scores?.NormalizedMutualInformation:F4}");
            }

            // --remote-cli: the same command with --server (upload, follow, download, the same files and report) instead of an
            // Orleans client's job, so that both sides are timed from process start to exit and do the same work.
            var remote = args.Contains("--remote-cli") ? new RemoteCliRun(cli, Path.Combine(work, "images"), work) : null;
            await RunClusterAsync(redisExecutable, azuriteLauncher, silo, workerCount, workerThreads, inFlight, subset, description, cliResult, cliSeconds, args.Contains("--rerun"), remote);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunClusterAsync(
        string redisExecutable, string azuriteLauncher, string siloAssembly, int workerCount, string workerThreads, string inFlight,
        IReadOnlyList<DatasetImage> images, BackboneDescription description, ClusteringResult? cliResult, double cliSeconds, bool rerun, RemoteCliRun? remote)
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisServer.StartAsync(redisExecutable);
        // Azurite without its access log: Azure Blob Storage spends none of the cluster's CPU on one.
        await using var azurite = await AzuriteProcess.StartAsync(azuriteLauncher, accessLog: false);
        var settings = new ClusterSettings($"bench-{Guid.NewGuid():N}"[..20], "anomaly-clustering-bench", redis.ConnectionString, azurite.ConnectionString,
            new Dictionary<string, string>());
        var silos = new List<SiloProcess>();
        try
        {
            var coordinatorSettings = new Dictionary<string, string> { ["AnomalyClustering__Coordinator__MaxInFlightImages"] = inFlight };
            if (remote is not null)
            {
                // The remote CLI names its backbone from the coordinator's catalog.
                var catalogEntry = Path.Combine(remote.Work, "backbone.json");
                description.Save(catalogEntry);
                coordinatorSettings["AnomalyClustering__Backbones__Catalog__bench"] = catalogEntry;
            }
            silos.Add(SiloProcess.Start(siloAssembly, settings, "coordinator", SiloRoles.Coordinator, extra: coordinatorSettings));
            for (var w = 1; w <= workerCount; w++)
            {
                silos.Add(SiloProcess.Start(siloAssembly, settings, $"worker-{w}", SiloRoles.GpuWorker,
                    extra: new Dictionary<string, string> { ["AnomalyClustering__Backbones__IntraOpThreads"] = workerThreads }));
            }
            await Task.WhenAll(silos.Select(s => s.WaitReadyAsync(TimeSpan.FromMinutes(3))));
            var started = clock.Elapsed.TotalSeconds;

            if (remote is not null)
            {
                Console.WriteLine($"cluster: started in {started:F1} s (Redis, Azurite, {silos.Count} silos ready)");
                var cpu = new ClusterCpu(silos, redis, azurite);
                var output = Path.Combine(remote.Work, "remote-out");
                var (remoteResult, remoteSeconds, remoteCliCpu) = RunCliCommand(
                    remote.CliAssembly, ["cluster", remote.Images, "--server", $"http://127.0.0.1:{silos[0].HttpPort}", "--backbone-name", "bench", "-o", output], output);
                Console.WriteLine($"remote CLI: {remoteSeconds:F1} s wall (process start to exit); stages {Stages(remoteResult)}; CPU s: {cpu.Report()}, the CLI {remoteCliCpu:F1}; NMI {remoteResult.Scores?.NormalizedMutualInformation:F4}");
                if (cliResult is not null)
                {
                    Compare(cliResult, remoteResult);
                    Console.WriteLine($"overhead: remote CLI {remoteSeconds:F1} s vs CLI {cliSeconds:F1} s = {100 * (remoteSeconds / cliSeconds - 1):+0.0;-0.0} %; "
                                      + $"stage sums {StageSum(remoteResult):F1} s vs {StageSum(cliResult):F1} s = {100 * (StageSum(remoteResult) / StageSum(cliResult) - 1):+0.0;-0.0} %");
                }
                return;
            }

            clock.Restart();
            var store = await AzureBlobStore.ConnectAsync(azurite.ConnectionString, Container);
            var jobImages = new JobImage[images.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, images.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
            {
                var blob = "datasets/bench/" + images[i].Id;
                await using var file = File.OpenRead(images[i].Path);
                await store.PutAsync(blob, file, cancellationToken: cancellationToken);
                jobImages[i] = new JobImage(images[i].Id, blob, images[i].Label);
            });
            var uploaded = clock.Elapsed.TotalSeconds;

            using var host = ClusterClientHost.Build(settings);
            await host.StartAsync();
            var client = host.Services.GetRequiredService<IClusterClient>();
            Console.WriteLine($"cluster: started in {started:F1} s (Redis, Azurite, {silos.Count} silos ready); {images.Count} images uploaded in {uploaded:F1} s");

            var specification = new JobSubmission(jobImages, [], new JobOptions(), description.ToJson(), "benchmark");
            var (first, firstSeconds) = await RunJobAsync(client, store, new ClusterCpu(silos, redis, azurite), "overhead-1", specification);
            if (cliResult is not null)
            {
                Compare(cliResult, first);
                Console.WriteLine($"overhead: cluster job {firstSeconds:F1} s vs CLI {cliSeconds:F1} s = {100 * (firstSeconds / cliSeconds - 1):+0.0;-0.0} %; "
                                  + $"stage sums {StageSum(first):F1} s vs {StageSum(cliResult):F1} s = {100 * (StageSum(first) / StageSum(cliResult) - 1):+0.0;-0.0} %");
            }
            if (rerun)
            {
                var (second, _) = await RunJobAsync(client, store, new ClusterCpu(silos, redis, azurite), "overhead-2", specification);
                Compare(first, second);
            }
            await host.StopAsync();
        }
        finally
        {
            foreach (var s in silos)
            {
                await s.DisposeAsync();
            }
        }
    }

    /// <summary>Submits a job, polls it to the end (200 ms), and prints its wall time, stage timings and each silo's CPU seconds.</summary>
    private static async Task<(ClusteringResult Result, double Seconds)> RunJobAsync(
        IClusterClient client, IBlobStore store, ClusterCpu cpu, string jobId, JobSubmission specification)
    {
        var clock = Stopwatch.StartNew();
        var job = client.GetGrain<IClusteringJobGrain>(jobId);
        var status = await JobSubmitter.SubmitAsync(store, client, jobId, specification);
        var embeddedAt = 0.0;
        while (!status.IsFinished)
        {
            await Task.Delay(200);
            status = await job.GetStatus();
            if (embeddedAt == 0 && status.State is JobState.Weighting or JobState.Clustering or JobState.Completed)
            {
                embeddedAt = clock.Elapsed.TotalSeconds;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (status.State != JobState.Completed)
        {
            throw new InvalidOperationException($"job {jobId} ended {status.State}: {status.Error}\n{cpu.Tails()}");
        }
        var (result, _) = await JobResultFiles.ReadAsync(store, status.ResultBlob!, CancellationToken.None);
        Console.WriteLine($"cluster job {jobId}: {seconds:F1} s wall (submit to completed; embedding done at {embeddedAt:F1} s); cache hits {status.CacheHits}/{status.TotalImages}; "
                          + $"stages {Stages(result)}; CPU s during the job: {cpu.Report()}; NMI {result.Scores?.NormalizedMutualInformation:F4}");
        return (result, seconds);
    }

    /// <summary>Runs the CLI as a child process and reads its result document.</summary>
    private static (ClusteringResult Result, double Seconds, double CpuSeconds) RunCli(string cliAssembly, string images, string model, string output) =>
        // A store of its own: the CLI's default store keeps a feature cache between runs, which would skip the backbone.
        RunCliCommand(cliAssembly, ["cluster", images, "--model", model, "-o", output, "--store", output + "-store"], output);

    /// <summary>
    /// Runs <c>anomaly-cluster</c> with <paramref name="arguments"/> as a child process; its result document is in
    /// <paramref name="output"/>. Also returns the CPU seconds the child used (reaped children's rusage, before and after).
    /// </summary>
    private static (ClusteringResult Result, double Seconds, double CpuSeconds) RunCliCommand(string cliAssembly, IReadOnlyList<string> arguments, string output)
    {
        var cpuBefore = ChildProcessCpu.ReapedChildrenSeconds();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments.Prepend(cliAssembly))
        {
            start.ArgumentList.Add(argument);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the CLI failed ({process.ExitCode}): {stderr.Result}\n{stdout.Result}");
        }
        var cpu = ChildProcessCpu.ReapedChildrenSeconds() - cpuBefore;
        return (ResultFolder.Read(output).Result, seconds, cpu);
    }

    /// <summary>Prints whether two results cluster every image alike (and the NMI between their partitions).</summary>
    private static void Compare(ClusteringResult reference, ClusteringResult other)
    {
        var clusters = reference.Images.ToDictionary(image => image.Id, image => image.Cluster, StringComparer.Ordinal);
        var same = other.Images.Count(image => clusters.TryGetValue(image.Id, out var cluster) && cluster == image.Cluster);
        var common = other.Images.Where(image => clusters.ContainsKey(image.Id)).ToArray();
        var agreement = ClusteringMetrics.NormalizedMutualInformation(common.Select(image => clusters[image.Id]).ToArray(), common.Select(image => image.Cluster).ToArray());
        Console.WriteLine($"  same cluster for {same} of {reference.Images.Count} images (NMI between the two partitions {agreement:F4})");
    }

    /// <summary>Seconds of the job's stages as its coordinator measured them (the same code in both forms).</summary>
    private static double StageSum(ClusteringResult result) => result.Timings.Sum(timing => timing.Elapsed.TotalSeconds);

    /// <summary>CPU seconds of every process of the local cluster since this was made.</summary>
    private sealed class ClusterCpu
    {
        private readonly IReadOnlyList<(string Name, Func<TimeSpan> Read, TimeSpan Before)> _processes;
        private readonly IReadOnlyList<SiloProcess> _silos;

        public ClusterCpu(IReadOnlyList<SiloProcess> silos, RedisServer redis, AzuriteProcess azurite)
        {
            _silos = silos;
            _processes = silos.Select(s => (s.Name, (Func<TimeSpan>)(() => s.Process.TotalProcessorTime)))
                .Append(("redis", () => redis.TotalProcessorTime))
                .Append(("azurite", () => azurite.TotalProcessorTime))
                .Select(p => (p.Item1, p.Item2, p.Item2()))
                .ToArray();
        }

        /// <summary>"name seconds" for each process and their total.</summary>
        public string Report()
        {
            var used = _processes.Select(p => (p.Name, Seconds: (p.Read() - p.Before).TotalSeconds)).ToArray();
            return string.Join(", ", used.Select(p => $"{p.Name} {p.Seconds:F1}")) + $" (total {used.Sum(p => p.Seconds):F1})";
        }

        /// <summary>The silos' log tails, for a failed job.</summary>
        public string Tails() => string.Join('\n', _silos.Select(s => s.Process.Tail()));
    }

    /// <summary>Where the remote CLI run finds the CLI, the images and a working folder.</summary>
    private sealed record RemoteCliRun(string CliAssembly, string Images, string Work);

    private static string Stages(ClusteringResult result) =>
        string.Join(", ", result.Timings.Select(timing => $"{timing.Stage} {timing.Elapsed.TotalSeconds:F1}"));

    /// <summary>The first images of every class folder under <c>test/</c>, class by class in turn until <paramref name="count"/>, copied to <paramref name="folder"/>.</summary>
    private static List<DatasetImage> WriteSubset(string data, int count, string folder)
    {
        var root = Directory.Exists(Path.Combine(data, "test")) ? Path.Combine(data, "test") : data;
        var classes = Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .Select(dir => (Name: Path.GetFileName(dir), Files: Directory.GetFiles(dir).Where(IsImage).Order(StringComparer.Ordinal).ToArray()))
            .Where(c => c.Files.Length > 0 && c.Name != "combined")
            .ToArray();
        if (classes.Length == 0)
        {
            throw new InvalidOperationException($"{root} has no class folders with images.");
        }
        var taken = new int[classes.Length];
        var total = 0;
        while (total < count && Enumerable.Range(0, classes.Length).Any(c => taken[c] < classes[c].Files.Length))
        {
            for (var c = 0; c < classes.Length && total < count; c++)
            {
                if (taken[c] < classes[c].Files.Length)
                {
                    taken[c]++;
                    total++;
                }
            }
        }
        var images = new List<DatasetImage>();
        for (var c = 0; c < classes.Length; c++)
        {
            var target = Path.Combine(folder, "test", classes[c].Name);
            Directory.CreateDirectory(target);
            foreach (var file in classes[c].Files.Take(taken[c]))
            {
                var copy = Path.Combine(target, Path.GetFileName(file));
                File.Copy(file, copy);
                images.Add(new DatasetImage($"test/{classes[c].Name}/{Path.GetFileName(file)}", copy, classes[c].Name));
            }
        }
        return images;
    }

    private static bool IsImage(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".bmp" or ".gif" or ".webp";

    /// <summary>The description the CLI makes for <c>--model</c>: every 4-D float output, whole images stretched.</summary>
    private static string? Recorded(string key)
    {
        var path = typeof(ClusterOverheadBenchmark).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;
        return path is not null && File.Exists(path) ? path : null;
    }
}
