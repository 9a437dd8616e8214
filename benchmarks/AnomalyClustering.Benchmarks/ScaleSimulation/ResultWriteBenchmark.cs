using System.Buffers;
using System.Diagnostics;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// The result stage's writing alone, at the scale simulation's N: a two-stage result of N synthetic images (the scale
/// simulation's mixture, clusters = components, 8 micro-clusters) written by <see cref="JobResultFiles.WriteAsync"/> to a
/// local store, and then each of its steps on its own, with the bytes each allocates and the managed heap it reaches
/// (sampled every 20 ms) over the heap before it: where the stage's memory beyond the N x D matrix comes from, in seconds
/// rather than a 15-minute simulation.
/// </summary>
internal sealed class ResultWriteBenchmark : IBenchmark
{
    public string Name => "result-write";

    public string Description =>
        "writes a synthetic two-stage result of N images (D = 256) through JobResultFiles.WriteAsync, then each step alone; prints bytes allocated and the "
        + "managed heap's peak over its start per step. Args: [--images 200000]";

    public void Run(string[] args) => RunAsync(BenchmarkArgs.Int(args, "--images", 200_000)).GetAwaiter().GetResult();

    private static async Task RunAsync(int count)
    {
        const int dimension = SyntheticMixture.Dimension;
        var matrix = new float[(long)count * dimension];
        for (var i = 0; i < count; i++)
        {
            SyntheticMixture.Embedding(i, out _).CopyTo(matrix.AsSpan(i * dimension, dimension));
        }
        var labels = Enumerable.Range(0, SyntheticMixture.Components).Select(SyntheticMixture.LabelOf).ToArray();
        var images = new ClusteredImage[count];
        var leaves = new int[count];
        for (var i = 0; i < count; i++)
        {
            leaves[i] = SyntheticMixture.ComponentOf(i);
            images[i] = new ClusteredImage($"img-{i:D7}", leaves[i], labels[leaves[i]], PatchWeights: null);
        }
        // Eight leaves joined pairwise: (0,1) (2,3) (4,5) (6,7), then (8,9) (10,11), then (12,13).
        var linkage = new double[,] { { 0, 1, 1, 0 }, { 2, 3, 2, 0 }, { 4, 5, 3, 0 }, { 6, 7, 4, 0 }, { 8, 9, 5, 0 }, { 10, 11, 6, 0 }, { 12, 13, 7, 0 } };
        int[] sizes = [.. Enumerable.Repeat(1, 8), 0, 0, 0, 0, 0, 0, 0];
        for (var r = 0; r < 7; r++)
        {
            sizes[8 + r] = sizes[(int)linkage[r, 0]] + sizes[(int)linkage[r, 1]];
            linkage[r, 3] = sizes[8 + r];
        }
        var result = new ClusteringResult
        {
            Options = new ClusteringJobOptions { ClusterCount = SyntheticMixture.Components },
            Images = images,
            Errors = [],
            MergeTree = MergeTree.FromLinkageArray(linkage),
            LeafOfImage = leaves,
            Algorithm = ClusteringAlgorithm.TwoStageWard,
            AlgorithmReason = "synthetic",
            EmbeddingDimension = dimension,
            Scores = ClusteringMetrics.Evaluate(images.Select(image => image.Label!).ToArray(), leaves),
            ClassNames = labels,
            Timings = [],
        };
        var indices = Enumerable.Range(0, count).ToArray();
        var source = new ResultSource("job", "synthetic", Layout: null, NormalFolder: null, "synthetic", new Dictionary<string, int>(), Preprocessing: null);
        var folder = Directory.CreateTempSubdirectory("ac-result-write-");
        try
        {
            var store = new LocalDirectoryBlobStore(folder.FullName);
            Console.WriteLine($"result-write: {count:N0} images x {dimension} (matrix {count * (long)dimension * 4 / (1024 * 1024)} MiB), {Environment.ProcessorCount} cores");
            await MeasureAsync("JobResultFiles.WriteAsync (all of it)", () => JobResultFiles.WriteAsync(store, "job", result, source, matrix, indices, CancellationToken.None));
            ClusterCentres centres = null!;
            await MeasureAsync("  ClusterCentres.Of", () => Task.FromResult(centres = ClusterCentres.Of(result, matrix)));
            var local = Directory.CreateTempSubdirectory("ac-result-write-folder-");
            await MeasureAsync("  ResultFolder.Write (parquet, npy, digest, summary)", () => Task.FromResult(ResultFolder.Write(local.FullName, result, source, centres, matrix, indices)));
            local.Delete(recursive: true);
            // As JobResultFiles writes them: each page's JSON into one reused buffer.
            var buffer = new ArrayBufferWriter<byte>();
            long WrittenBytes(IReadOnlyList<ResultImageEntry> rows)
            {
                buffer.ResetWrittenCount();
                ResultPages.WriteJson(buffer, rows);
                return buffer.WrittenCount;
            }
            await MeasureAsync("  cluster pages (ResultPages.ClusterPages + WriteJson)", () => Task.FromResult(
                ResultPages.ClusterPages(result, centres, indices).Sum(page => WrittenBytes(page.Rows))));
            await MeasureAsync("  id buckets (ResultPages.IdBuckets + WriteJson)", () => Task.FromResult(
                ResultPages.IdBuckets(result, centres, indices).Sum(bucket => WrittenBytes(bucket.Rows))));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
        GC.KeepAlive(matrix);
    }

    private static async Task MeasureAsync<T>(string step, Func<Task<T>> work)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(false);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gen2Before = GC.CollectionCount(2);
        var peak = heapBefore;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
            }
        });
        var clock = Stopwatch.StartNew();
        await work();
        var seconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        peak = Math.Max(peak, GC.GetTotalMemory(false));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Console.WriteLine($"{step,-58} {seconds,6:F1} s  allocated {Mib(allocated),7}  heap peak over start {Mib(peak - heapBefore),7}  gen2 GCs {GC.CollectionCount(2) - gen2Before}");
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F0} MiB";
}
