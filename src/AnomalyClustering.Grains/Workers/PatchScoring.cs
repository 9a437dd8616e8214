using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;
using AnomalyClustering.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Workers;

/// <summary>Which nearest-patch search a worker's patch scores use (<see cref="WorkerOptions.NearestPatchKernel"/>).</summary>
public enum NearestPatchKernel
{
    /// <summary>The ONNX graph on a GPU worker (its backbone runs on CUDA or TensorRT), the CPU kernel otherwise.</summary>
    Auto,

    /// <summary>The SIMD kernel of Core on the CPU cores.</summary>
    Cpu,

    /// <summary>The ONNX graph on the backbone's execution provider, CPU included (to compare both on one machine).</summary>
    Onnx,
}

/// <summary>
/// The patch scores of a worker's images (METHOD section 2), with the nearest-patch search its settings choose: the SIMD
/// kernel on the CPU, or on a GPU worker the search as a small ONNX graph on the device (<see cref="OnnxNearestPatchSearch"/>),
/// built once per job's reference pool or normal bank, shared by the job's image grains on this silo and kept for the few
/// most recent jobs. Both give the same scores wherever they choose the same patch (the distance is recomputed exactly).
/// </summary>
public sealed class PatchScoring(
    PatchBagMemoryCache bags, IOptions<WorkerOptions> workerOptions, IOptions<BackboneHostOptions> backboneOptions, ILogger<PatchScoring> logger)
{
    private const int SearchesKept = 4;
    private readonly WorkerOptions _worker = workerOptions.Value;
    private readonly BackboneRuntimeOptions _runtime = backboneOptions.Value.Runtime;
    // An evicted search's device memory goes once the image grains still using it are done.
    private readonly RecentlyUsedTasks<SharedSearch> _searches = new(SearchesKept, evicted =>
        evicted.ContinueWith(task => task.Result.Evict(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default));

    /// <summary>Whether the nearest-patch searches run as the ONNX graph (on the backbone's execution provider).</summary>
    public bool UsesOnnxKernel => _worker.NearestPatchKernel switch
    {
        NearestPatchKernel.Onnx => true,
        NearestPatchKernel.Cpu => false,
        _ => _runtime.ExecutionProvider != ExecutionProviderKind.Cpu,
    };

    /// <summary>Semi-supervised scores of <paramref name="bag"/>: the distance of each patch to the nearest patch of the bank.</summary>
    /// <param name="bankKey">What identifies the bank (job, normal images, coreset settings): the device search is kept under it.</param>
    /// <param name="bank">The job's normal bank.</param>
    /// <param name="bag">The image's patches.</param>
    public async Task<double[]> AgainstBankAsync(string bankKey, NormalBank bank, PatchBag bag)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(bag);
        var scores = new double[bag.PatchCount];
        if (!UsesOnnxKernel || !await WithSearchAsync("bank\n" + bankKey,
                () => Task.FromResult(OnnxNearestPatchSearch.Fits(bank.PatchCount, bank.Dimension) ? OnnxNearestPatchSearch.ForBank(bank, _runtime) : null),
                search => search.Nearest(bag, scores)).ConfigureAwait(false))
        {
            var cpuScores = await Task.Run(() => SemiSupervisedPatchScores.Compute(bag, bank, _worker.ScoringThreads)).ConfigureAwait(false);
            Count("cpu");
            return cpuScores;
        }
        Count("onnx");
        return scores;
    }

    /// <summary>
    /// Unsupervised scores of <paramref name="bag"/> against the references at <paramref name="positions"/> of the job's
    /// reference pool (<paramref name="poolBlobs"/>, the feature blobs of its reference images): the mean over them of each
    /// patch's distance to the nearest patch of the reference.
    /// </summary>
    public async Task<double[]> AgainstReferencesAsync(string jobId, IReadOnlyList<string> poolBlobs, IReadOnlyList<int> positions, PatchBag bag)
    {
        ArgumentNullException.ThrowIfNull(poolBlobs);
        ArgumentNullException.ThrowIfNull(positions);
        ArgumentNullException.ThrowIfNull(bag);
        var scores = new double[bag.PatchCount];
        // The pool's bags are read once per job and silo, when its search is built; each image then sends only its own patches.
        var onDevice = UsesOnnxKernel && await WithSearchAsync($"pool\n{jobId}\n" + string.Join("\n", poolBlobs), async () =>
        {
            var pool = await Task.WhenAll(poolBlobs.Select(blob => bags.GetAsync(blob))).ConfigureAwait(false);
            if (OnnxNearestPatchSearch.Fits(pool.Sum(reference => (long)reference.PatchCount), pool[0].Dimension))
            {
                return OnnxNearestPatchSearch.ForGroups(pool, _runtime);
            }
            // An exact job (every image a reference) on a large set: more patches than a graph holds.
            logger.LogInformation("Job {JobId}: its {References} reference images exceed the nearest-patch graph; the CPU kernel scores them", jobId, pool.Length);
            return null;
        }, search => search.MeanOverGroups(bag, positions, scores)).ConfigureAwait(false);
        if (!onDevice)
        {
            var references = await Task.WhenAll(positions.Select(p => bags.GetAsync(poolBlobs[p]))).ConfigureAwait(false);
            await Task.Run(() => UnsupervisedPatchScores.ForImage(bag, references, scores, _worker.ScoringThreads)).ConfigureAwait(false);
            Count("cpu");
            return scores;
        }
        Count("onnx");
        return scores;
    }

    private static void Count(string kernel) => AnomalyClusteringTelemetry.PatchScores.Add(1, new KeyValuePair<string, object?>("kernel", kernel));

    /// <summary>
    /// Runs <paramref name="use"/> on the search kept under <paramref name="key"/> (built by <paramref name="build"/> when
    /// missing); false, without running it, when the build found the references too large for a graph (kept so too).
    /// </summary>
    private async Task<bool> WithSearchAsync(string key, Func<Task<OnnxNearestPatchSearch?>> build, Action<OnnxNearestPatchSearch> use)
    {
        while (true)
        {
            var shared = await _searches.GetOrStart(key, async () => new SharedSearch(await build().ConfigureAwait(false))).ConfigureAwait(false);
            if (shared.Search is null)
            {
                return false;
            }
            if (!shared.TryAcquire())
            {
                continue; // evicted between the lookup and now: build it again
            }
            try
            {
                await Task.Run(() => use(shared.Search)).ConfigureAwait(false);
                return true;
            }
            finally
            {
                shared.Release();
            }
        }
    }

    /// <summary>A search shared by image grains: disposed when evicted and no grain holds it any more.</summary>
    private sealed class SharedSearch(OnnxNearestPatchSearch? search)
    {
        private readonly Lock _gate = new();
        private int _holders;
        private bool _evicted;

        /// <summary>The search; null when the references do not fit a graph (the CPU kernel scores them).</summary>
        public OnnxNearestPatchSearch? Search => search;

        public bool TryAcquire()
        {
            lock (_gate)
            {
                if (_evicted)
                {
                    return false;
                }
                _holders++;
                return true;
            }
        }

        public void Release()
        {
            lock (_gate)
            {
                if (--_holders == 0 && _evicted)
                {
                    search?.Dispose();
                }
            }
        }

        public void Evict()
        {
            lock (_gate)
            {
                _evicted = true;
                if (_holders == 0)
                {
                    search?.Dispose();
                }
            }
        }
    }
}
