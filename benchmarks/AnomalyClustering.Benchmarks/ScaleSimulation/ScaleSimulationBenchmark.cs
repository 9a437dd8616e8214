using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text.Json;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// Issue #11 section 4, the simulation form: one job of N synthetic images through the real job path (JobSubmitter and its
/// manifest, ClusteringJobGrain, JobShardGrain, the result stage, EmbeddingClustering, result.json) on an in-process cluster
/// of 3 silos (1 coordinator, 2 gpu-workers), with <c>ImageGrain</c> replaced by <see cref="SyntheticImageGrain"/> (no
/// decoding or embedding; x_i from a seeded Gaussian mixture; outcome blobs written for real). Prints the wall time of each
/// stage, the process's peak RSS and managed heap (all three silos and the client share the process), the bytes of every
/// grain-state write, the grain calls per image and the store bytes per image.
/// </summary>
internal sealed class ScaleSimulationBenchmark : IBenchmark
{
    private const string JobId = "scale-simulation";

    public string Name => "scale";

    public string Description =>
        "one average-mode job of N synthetic images through the real coordinator, shards, manifest and clustering on an in-process 3-silo cluster; "
        + "ImageGrain is REPLACED by a synthetic grain (x_i from a seeded 8-centre Gaussian mixture, D = 256; outcome blobs still written). "
        + "Args: [--images 100000] [--algorithm auto|linear-memory-ward|two-stage-ward (the job option; auto lets the coordinator choose)] [--in-flight 32] [--active-shards 2] [--store DIR (default /tmp/ac-scale-<random>; deleted afterwards)] [--keep] [--delete-job (time the product's JobDeletion of the finished job)] [--read-whole-result (also read the result as the embedded CLI does, and report that read's peak RSS)] [--memory-trace FILE (RSS and managed heap every 200 ms, with the clustering span and the benchmark's steps marked)]";

    public void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        var imageCount = BenchmarkArgs.Int(args, "--images", 100_000);
        var algorithm = BenchmarkArgs.Option(args, "--algorithm", "auto");
        var inFlight = BenchmarkArgs.Int(args, "--in-flight", 32);
        var activeShards = BenchmarkArgs.Int(args, "--active-shards", 2);
        var folder = BenchmarkArgs.Option(args, "--store", Path.Combine(Path.GetTempPath(), "ac-scale-" + Guid.NewGuid().ToString("n")[..8]));
        Console.WriteLine($"scale simulation: {imageCount:N0} images, 3 silos in this process (1 coordinator, 2 gpu-workers), store {folder}; "
                          + $"{Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine("  ImageGrain is REPLACED by SyntheticImageGrain: no image is read, decoded or embedded; x_i comes from a seeded "
                          + $"{SyntheticMixture.Components}-centre Gaussian mixture (D = {SyntheticMixture.Dimension}); outcome blobs are written for real.");

        var store = new CountingBlobStore(new LocalDirectoryBlobStore(folder));
        var calls = new GrainCallCounter();
        var states = new GrainStateRecords();
        var imageGrain = typeof(JobSubmitter).Assembly.GetType("AnomalyClustering.Grains.Images.ImageGrain", throwOnError: true)!;
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            var role = options.SiloName == "Silo_0" ? SiloRoles.Coordinator : SiloRoles.GpuWorker;
            silo.Services.AddSingleton<IBlobStore>(store);
            silo.Services.AddGrainStorage(GrainStorageNames.Jobs, (services, _) => new CountingGrainStorage(services.GetRequiredService<Serializer>(), states));
            silo.UseInMemoryReminderService();
            silo.AddIncomingGrainCallFilter(calls);
            silo.AddAnomalyClusteringGrains([role]);
            silo.Services.Configure<CoordinatorOptions>(coordinator =>
            {
                coordinator.MaxInFlightImages = inFlight;
                coordinator.MaxActiveShards = activeShards;
            });
            // The simulation's only substitution: every IImageGrain call lands on the synthetic grain.
            silo.Services.Configure<GrainTypeOptions>(types =>
            {
                types.Classes.Remove(imageGrain);
                types.Classes.Add(typeof(SyntheticImageGrain));
            });
        });
        var tracePath = BenchmarkArgs.Option(args, "--memory-trace", "");
        await using var trace = tracePath.Length > 0 ? new MemoryTrace(tracePath) : null;
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            await RunJobAsync(cluster, store, calls, states, imageCount, algorithm == "auto" ? null : algorithm, trace, args.Contains("--read-whole-result"));
            if (args.Contains("--delete-job"))
            {
                // What DELETE /jobs/{id} and retention have the coordinator do: list the job's blobs, then delete them, many at a time.
                trace?.Mark("JobDeletion start");
                PeakRss.Reset();
                var deletion = Stopwatch.StartNew();
                await JobDeletion.DeleteAsync(cluster.Client, JobId);
                trace?.Mark("JobDeletion stop");
                Console.WriteLine($"JobDeletion.DeleteAsync: {deletion.Elapsed.TotalSeconds:F1} s for {imageCount:N0} images "
                                  + $"({store.ByKind.Values.Sum(t => t.Deletes):N0} blob deletes, {BlobStoreExtensions.ParallelDeletions} at a time), peak RSS {Mib(PeakRss.Read())}");
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
            if (args.Contains("--keep"))
            {
                Console.WriteLine($"store kept: {folder}");
            }
            else
            {
                Console.WriteLine($"store on disk: {DiskUsage(folder)}; deleting it");
                trace?.Mark("store folder deletion start");
                PeakRss.Reset();
                var deletion = Stopwatch.StartNew();
                Directory.Delete(folder, recursive: true);
                trace?.Mark("store folder deletion stop");
                Console.WriteLine($"store folder deleted (Directory.Delete, the benchmark's own clean-up) in {deletion.Elapsed.TotalSeconds:F1} s, peak RSS {Mib(PeakRss.Read())}");
            }
        }
    }

    private static async Task RunJobAsync(
        InProcessTestCluster cluster, CountingBlobStore store, GrainCallCounter calls, GrainStateRecords states, int imageCount, string? algorithm, MemoryTrace? trace,
        bool readWholeResult)
    {
        var images = new JobImage[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            images[i] = new JobImage($"img-{i:D7}", $"synthetic/{i:D7}.png", SyntheticMixture.LabelOf(i));
        }
        var description = new Embedding.Backbones.BackboneDescription { Name = "synthetic", ModelPath = "synthetic.onnx", InputName = "input", FeatureOutputs = ["features"] };
        var submission = new JobSubmission(images, [], new JobOptions { Mode = "average", Algorithm = algorithm }, description.ToJson(), "scale simulation");
        var baselineRss = PeakRss.Current();
        PeakRss.Reset();
        var heap = new HeapSampler();

        var submitStart = store.Now;
        var status = await JobSubmitter.SubmitAsync(store, cluster.Client, JobId, submission);
        var manifestSeconds = (store.LastManifestWrite - submitStart).TotalSeconds;
        var submitSeconds = (store.Now - submitStart).TotalSeconds;
        images = null!;
        submission = null!;

        var job = cluster.Client.GetGrain<IClusteringJobGrain>(JobId);
        var clock = Stopwatch.StartNew();
        double? clusteringAt = null;
        long shardPhaseRss = 0;
        long shardPhaseHeap = 0;
        long shardPhaseCommitted = 0;
        var lastReport = TimeSpan.Zero;
        // The coordinator is reentrant: a status call waits only for the synchronous stretches of its running turn.
        double slowestStatus = 0, slowestStatusClustering = 0;
        while (!status.IsFinished)
        {
            await Task.Delay(250);
            heap.Sample();
            var asked = Stopwatch.GetTimestamp();
            status = await job.GetStatus();
            var answered = Stopwatch.GetElapsedTime(asked).TotalSeconds;
            if (clusteringAt is null)
            {
                slowestStatus = Math.Max(slowestStatus, answered);
            }
            else
            {
                slowestStatusClustering = Math.Max(slowestStatusClustering, answered);
            }
            if (clusteringAt is null && status.State is JobState.Clustering or JobState.Completed)
            {
                trace?.Mark("clustering state seen");
                clusteringAt = clock.Elapsed.TotalSeconds;
                (shardPhaseRss, shardPhaseHeap, shardPhaseCommitted) = (PeakRss.Read(), heap.Peak, heap.PeakCommitted);
                PeakRss.Reset();
                heap.Restart();
            }
            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(30))
            {
                lastReport = clock.Elapsed;
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F0} s: {status.State}, {status.WeightedImages:N0}/{status.TotalImages:N0} images, RSS {Mib(Environment.WorkingSet)}, "
                                  + $"managed {Mib(GC.GetTotalMemory(false))}, load {LoadAverage()}");
            }
        }
        var totalSeconds = clock.Elapsed.TotalSeconds;
        trace?.Mark($"{status.State} seen");
        var clusteringRss = PeakRss.Read();
        var clusteringHeap = heap.Peak;
        if (status.State != JobState.Completed)
        {
            throw new InvalidOperationException($"the job ended {status.State}: {status.Error}");
        }
        var callSnapshot = calls.Snapshot();
        var traffic = store.ByKind.ToDictionary(pair => pair.Key, pair => pair.Value);

        // Read after the peaks are taken, and streamed: the summary, then images.parquet one row group at a time (the whole
        // result read into memory took 3.9 GB at a million images, more than the job).
        trace?.Mark("streamed read start");
        PeakRss.Reset();
        var readClock = Stopwatch.StartNew();
        var (stage, clusterCount, nmi) = await StreamedReadAsync(store, status);
        trace?.Mark("streamed read stop");
        var streamedRead = $"the result read back streamed (summary, then images.parquet by row group, NMI from its cluster column): {readClock.Elapsed.TotalSeconds:F1} s, peak RSS {Mib(PeakRss.Read())}";
        if (readWholeResult)
        {
            // What the embedded CLI does with a finished job: every file into one ClusteringResult. Measured on its own.
            trace?.Mark("whole read start");
            PeakRss.Reset();
            readClock.Restart();
            var (whole, _) = await JobResultFiles.ReadAsync(store, status.ResultBlob!, CancellationToken.None);
            trace?.Mark("whole read stop");
            streamedRead += $"; the whole result read (JobResultFiles.ReadAsync, as the embedded CLI reads one): {readClock.Elapsed.TotalSeconds:F1} s, "
                            + $"peak RSS {Mib(PeakRss.Read())}, {whole.Images.Count:N0} images, NMI {whole.Scores?.NormalizedMutualInformation:F4}";
            whole = null!;
            GC.Collect();
        }
        var resultFiles = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var entry in store.ListAsync(JobResultFiles.Folder(status.JobId)))
        {
            resultFiles[entry.Name[JobResultFiles.Folder(status.JobId).Length..]] = entry.Size;
        }

        Console.WriteLine();
        Console.WriteLine($"job: {status.TotalImages:N0} images, algorithm {algorithm ?? "auto"}, {clusterCount} clusters, {status.FailedImages} failed, NMI vs the mixture's components {nmi:F4}");
        Console.WriteLine(streamedRead);
        Console.WriteLine($"wall: submit {submitSeconds:F1} s (manifest written in {manifestSeconds:F1} s), then to completed {totalSeconds:F1} s:");
        Console.WriteLine($"  shard phase (coordination + synthetic images) {stage.GetValueOrDefault(PipelineStage.WeightPatches):F1} s as the coordinator timed it "
                          + $"({status.TotalImages / Math.Max(1e-9, stage.GetValueOrDefault(PipelineStage.WeightPatches)):F0} images/s); clustering state reached at {clusteringAt:F1} s");
        Console.WriteLine($"  clustering stage {totalSeconds - clusteringAt:F1} s (observed: read shards + manifest, cluster, write result.json), "
                          + $"of which EmbeddingClustering {stage.GetValueOrDefault(PipelineStage.Cluster):F1} s");
        Console.WriteLine($"status: the slowest GetStatus answer took {slowestStatus * 1000:F0} ms before the clustering stage, {slowestStatusClustering * 1000:F0} ms during it");
        Console.WriteLine($"memory (the whole process: 3 silos, the client and the submitted list share it): RSS before the job {Mib(baselineRss)}; "
                          + $"peak RSS submit + shard phase {Mib(shardPhaseRss)}, clustering stage {Mib(clusteringRss)}; "
                          + $"peak managed heap (sampled every 250 ms) {Mib(shardPhaseHeap)} and {Mib(clusteringHeap)}; "
                          + $"peak GC committed {Mib(shardPhaseCommitted)} and {Mib(heap.PeakCommitted)} ({(GCSettings.IsServerGC ? "server" : "workstation")} GC)");
        Console.WriteLine("grain state writes (serialized with the Orleans serializer):");
        foreach (var (type, writes) in states.Writes.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {type}: {writes}");
        }
        var totalCalls = callSnapshot.Sum(call => call.Calls);
        var productCalls = callSnapshot.Where(call => call.Method.StartsWith("AnomalyClustering.", StringComparison.Ordinal)).Sum(call => call.Calls);
        Console.WriteLine($"grain calls received: {productCalls:N0} to the product's grains = {productCalls / (double)imageCount:F4} per image "
                          + $"(the benchmark's GetStatus polls included); {totalCalls:N0} with Orleans' own = {totalCalls / (double)imageCount:F4} per image");
        foreach (var (method, count) in callSnapshot)
        {
            Console.WriteLine($"  {method}: {count:N0} ({count / (double)imageCount:F5} per image)");
        }
        var written = traffic.Values.Sum(t => t.WrittenBytes);
        var read = traffic.Values.Sum(t => t.ReadBytes);
        Console.WriteLine($"store: {written / (double)imageCount:F0} B written and {read / (double)imageCount:F0} B read per image");
        // What a served report (GET /jobs/{id}/report past AnomalyClustering:Api:ReportWholeReadUpTo) reads of the result:
        // result.json (twice: the summary, then the page's head) and report-digest.json, against the whole read of before.
        long SizeOf(string name) => resultFiles.GetValueOrDefault(name);
        var digestRead = 2 * SizeOf(ResultFolder.SummaryFileName) + SizeOf(ReportDigest.FileName);
        var wholeRead = SizeOf(ResultFolder.SummaryFileName) + SizeOf(ResultFolder.ImagesFileName) + SizeOf(ResultFolder.ErrorsFileName) + SizeOf(ResultFolder.LinkageFileName);
        Console.WriteLine($"served report, result bytes read per render: {digestRead:N0} B from result.json ({SizeOf(ResultFolder.SummaryFileName):N0} B, read twice) and "
            + $"{ReportDigest.FileName} ({SizeOf(ReportDigest.FileName):N0} B); the whole read it replaces: {wholeRead:N0} B (images.parquet {SizeOf(ResultFolder.ImagesFileName):N0} B, "
            + $"errors.parquet {SizeOf(ResultFolder.ErrorsFileName):N0} B, linkage.npy {SizeOf(ResultFolder.LinkageFileName):N0} B, result.json)");
        foreach (var (kind, t) in traffic.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {kind}: {t.Writes:N0} blobs written, {t.WrittenBytes / (double)imageCount:F1} B/image ({Mib(t.WrittenBytes)}); "
                              + $"{t.Reads:N0} read, {Mib(t.ReadBytes)}");
        }
    }

    /// <summary>
    /// The stage times (the summary's timingsSeconds), the cluster count and the NMI of the clusters in images.parquet against
    /// the mixture's components (each id's index names its component), reading one row group at a time.
    /// </summary>
    private static async Task<(Dictionary<PipelineStage, double> Stages, int ClusterCount, double Nmi)> StreamedReadAsync(IBlobStore store, JobStatus status)
    {
        var stages = new Dictionary<PipelineStage, double>();
        await using (var summary = await store.OpenReadAsync(status.ResultBlob!))
        using (var json = await JsonDocument.ParseAsync(summary))
        {
            foreach (var timing in json.RootElement.GetProperty("timingsSeconds").EnumerateObject())
            {
                stages[Enum.Parse<PipelineStage>(timing.Name, ignoreCase: true)] = timing.Value.GetDouble();
            }
        }
        var local = Path.GetTempFileName();
        try
        {
            await using (var source = await store.OpenReadAsync(JobResultFiles.Folder(status.JobId) + ResultFolder.ImagesFileName))
            await using (var target = File.Create(local))
            {
                await source.CopyToAsync(target);
            }
            var components = new int[status.TotalImages - status.FailedImages];
            var clusters = new int[components.Length];
            var row = 0;
            ResultFolder.ReadImages(local, group =>
            {
                foreach (var image in group)
                {
                    components[row] = SyntheticMixture.ComponentOf(int.Parse(image.Id.AsSpan("img-".Length), CultureInfo.InvariantCulture));
                    clusters[row++] = image.Cluster;
                }
            });
            if (row != components.Length)
            {
                throw new InvalidDataException($"images.parquet has {row:N0} rows; the job clustered {components.Length:N0} images.");
            }
            return (stages, clusters.Max() + 1, ClusteringMetrics.Evaluate(components, clusters).NormalizedMutualInformation);
        }
        finally
        {
            File.Delete(local);
        }
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F0} MiB";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>`du` of the store folder: apparent bytes and the disk blocks it takes.</summary>
    private static string DiskUsage(string folder)
    {
        static string Du(string arguments)
        {
            using var process = Process.Start(new ProcessStartInfo("du", arguments) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output.Split('\t')[0];
        }
        try
        {
            var apparent = long.Parse(Du($"-sb --apparent-size {folder}"), CultureInfo.InvariantCulture);
            var blocks = long.Parse(Du($"-sk {folder}"), CultureInfo.InvariantCulture) * 1024;
            return $"{Mib(apparent)} apparent, {Mib(blocks)} in disk blocks";
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or FormatException)
        {
            return "unknown (du failed)";
        }
    }

    /// <summary>The process's resident set: now, and its peak since the last <see cref="Reset"/> (Linux VmHWM).</summary>
    private static class PeakRss
    {
        public static long Current() => Environment.WorkingSet;

        /// <summary>Restarts the peak at the current RSS (writes 5 to /proc/self/clear_refs).</summary>
        public static void Reset()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Then the peak is the process's peak since it started.
            }
        }

        public static long Read()
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>The largest managed heap seen by <see cref="Sample"/> (GC's total of live and not yet collected objects).</summary>
    private sealed class HeapSampler
    {
        public long Peak { get; private set; }

        /// <summary>The most memory the GC held committed (live, garbage and free space it kept from the OS).</summary>
        public long PeakCommitted { get; private set; }

        public void Sample()
        {
            var info = GC.GetGCMemoryInfo();
            Peak = Math.Max(Peak, Math.Max(GC.GetTotalMemory(false), info.HeapSizeBytes));
            PeakCommitted = Math.Max(PeakCommitted, info.TotalCommittedBytes);
        }

        public void Restart() => (Peak, PeakCommitted) = (0, 0);
    }
}
