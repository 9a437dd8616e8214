using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AnomalyClustering.Embedding.Kernels;

/// <summary>
/// The nearest-patch search of the patch scores (METHOD section 2) as a small ONNX graph, for workers whose backbone runs on
/// a GPU: MatMul (the query patches against every reference patch), Add (the references' squared norms), Reshape (one row
/// of candidates per reference group) and ArgMin, on the backbone's execution provider. The reference patches (a job's
/// reference pool, one group per reference image, or its normal bank, one group) are constants of the graph, so the
/// provider keeps them on the device and each image sends only its own patches.
/// </summary>
/// <remarks>
/// The graph only chooses the nearest patch, from |b|^2 - 2 a.b in float32 (|a|^2 is the same for every candidate of a
/// row); the distance to the chosen patch is then computed exactly in double precision by
/// <see cref="NearestPatchDistances.Exact"/>, as the CPU kernel does. So a score is the CPU kernel's bit for bit whenever
/// both choose the same patch, and differs by at most float rounding of a near tie otherwise (ties choose the lowest
/// index in both). Device memory: the constants (patches x dimension floats, at most <see cref="MaxConstantBytes"/>) and,
/// per run, a float32 matrix of query rows x reference patches, bounded by running the query in slices.
/// Thread-safe: ONNX Runtime sessions take concurrent runs, so the image grains of a job share one search.
/// </remarks>
public sealed class OnnxNearestPatchSearch : IDisposable
{
    /// <summary>The most bytes of reference patches one search holds as graph constants (an ONNX model is at most 2 GB).</summary>
    public const long MaxConstantBytes = 1L << 30;

    // The [query rows, reference patches] float32 matrix of one run; queries are run in slices of rows that fit.
    internal const long DefaultMaxProductBytes = 256L << 20;

    // Padding rows (groups with fewer patches than the largest) get this squared norm: never the minimum of a real row.
    private const float PaddingNorm = 1e30f;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly float[][] _groups;
    private readonly int[] _groupPatches;
    private readonly int _patchesPerGroup;
    private readonly int _rowsPerRun;
    private bool _disposed;

    private OnnxNearestPatchSearch(float[][] groups, int[] groupPatches, int dimension, BackboneRuntimeOptions runtime, long maxProductBytes)
    {
        _groups = groups;
        _groupPatches = groupPatches;
        Dimension = dimension;
        _patchesPerGroup = groupPatches.Max();
        var candidates = (long)groups.Length * _patchesPerGroup;
        _rowsPerRun = (int)Math.Clamp(maxProductBytes / (candidates * sizeof(float)), 1, int.MaxValue);
        using var options = runtime.CreateSessionOptions();
        _session = new InferenceSession(CreateModel(groups, groupPatches, _patchesPerGroup, dimension), options);
    }

    /// <summary>Reference groups the search holds.</summary>
    public int GroupCount => _groups.Length;

    /// <summary>Values per patch.</summary>
    public int Dimension { get; }

    /// <summary>Whether <paramref name="patches"/> reference patches of <paramref name="dimension"/> values fit one search's constants.</summary>
    public static bool Fits(long patches, int dimension) => patches * dimension * sizeof(float) <= MaxConstantBytes;

    /// <summary>A search over reference groups, one per bag (a job's reference pool: group g is reference image g).</summary>
    /// <exception cref="ArgumentException">No bags, dimensions differ, or the patches do not fit (<see cref="Fits"/>).</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The execution provider cannot be loaded.</exception>
    public static OnnxNearestPatchSearch ForGroups(IReadOnlyList<PatchBag> groups, BackboneRuntimeOptions runtime) =>
        ForGroups(groups, runtime, DefaultMaxProductBytes);

    /// <summary>As <see cref="ForGroups(IReadOnlyList{PatchBag}, BackboneRuntimeOptions)"/>, running queries in slices whose product matrix takes at most <paramref name="maxProductBytes"/>.</summary>
    internal static OnnxNearestPatchSearch ForGroups(IReadOnlyList<PatchBag> groups, BackboneRuntimeOptions runtime, long maxProductBytes)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(runtime);
        if (groups.Count == 0)
        {
            throw new ArgumentException("A nearest-patch search needs at least one reference group.", nameof(groups));
        }
        var dimension = groups[0].Dimension;
        if (groups.Any(group => group.Dimension != dimension || group.PatchCount == 0))
        {
            throw new ArgumentException("Every reference group needs patches of one dimension.", nameof(groups));
        }
        CheckFits(groups.Sum(group => (long)group.PatchCount), dimension);
        return new OnnxNearestPatchSearch([.. groups.Select(group => group.Data)], [.. groups.Select(group => group.PatchCount)], dimension, runtime, maxProductBytes);
    }

    /// <summary>A search over one group: the normal bank's patches.</summary>
    /// <exception cref="ArgumentException">The bank does not fit (<see cref="Fits"/>).</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The execution provider cannot be loaded.</exception>
    public static OnnxNearestPatchSearch ForBank(NormalBank bank, BackboneRuntimeOptions runtime)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(runtime);
        CheckFits(bank.PatchCount, bank.Dimension);
        var rows = new float[(long)bank.PatchCount * bank.Dimension];
        for (var p = 0; p < bank.PatchCount; p++)
        {
            bank.CopyPatch(p, rows.AsSpan(p * bank.Dimension, bank.Dimension));
        }
        return new OnnxNearestPatchSearch([rows], [bank.PatchCount], bank.Dimension, runtime, DefaultMaxProductBytes);
    }

    /// <summary>Writes distances[k] = min over the only group's patches t of ||a_k - t|| (semi-supervised scores against a bank).</summary>
    public void Nearest(PatchBag query, Span<double> distances)
    {
        if (GroupCount != 1)
        {
            throw new InvalidOperationException($"This search holds {GroupCount} groups; Nearest takes a one-group (bank) search.");
        }
        MeanOverGroups(query, [0], distances);
    }

    /// <summary>
    /// Writes scores[k] = mean over <paramref name="groups"/> (in list order) of min_l ||a_k - b_gl||: the unsupervised score of
    /// an image against the references it uses, summed and divided as <see cref="UnsupervisedPatchScores.ForImage"/> does.
    /// </summary>
    public void MeanOverGroups(PatchBag query, IReadOnlyList<int> groups, Span<double> scores)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(groups);
        if (query.Dimension != Dimension)
        {
            throw new ArgumentException($"The query's patches have {query.Dimension} values; the references have {Dimension}.", nameof(query));
        }
        if (scores.Length != query.PatchCount)
        {
            throw new ArgumentException($"{scores.Length} scores for {query.PatchCount} patches.", nameof(scores));
        }
        if (groups.Count == 0 || groups.Any(group => (uint)group >= (uint)GroupCount))
        {
            throw new ArgumentException($"Groups must be between 0 and {GroupCount - 1}, at least one.", nameof(groups));
        }
        var nearest = new long[(long)query.PatchCount * GroupCount];
        for (var first = 0; first < query.PatchCount; first += _rowsPerRun)
        {
            var rows = Math.Min(_rowsPerRun, query.PatchCount - first);
            RunSlice(query.Data.AsMemory(first * Dimension, rows * Dimension), rows, nearest.AsSpan(first * GroupCount, rows * GroupCount));
        }
        var patch = query.Data.AsSpan();
        for (var k = 0; k < query.PatchCount; k++)
        {
            var row = patch.Slice(k * Dimension, Dimension);
            var total = 0.0;
            foreach (var group in groups)
            {
                var index = (int)nearest[(long)k * GroupCount + group];
                total += NearestPatchDistances.Exact(row, _groups[group].AsSpan(index * Dimension, Dimension));
            }
            scores[k] = total / groups.Count;
        }
    }

    private void RunSlice(ReadOnlyMemory<float> rows, int rowCount, Span<long> nearest)
    {
        using var pinned = rows.Pin();
        unsafe
        {
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [rowCount, Dimension], (nint)pinned.Pointer, (long)rowCount * Dimension * sizeof(float));
            using var results = _session.Run(_runOptions, ["query"], [input], ["nearest"]);
            var indices = results[0].GetTensorDataAsSpan<long>();
            for (var i = 0; i < nearest.Length; i++)
            {
                // A padding row never wins; an index past a short group's patches would mean the graph is wrong.
                nearest[i] = indices[i] < _groupPatches[i % GroupCount] ? indices[i] : throw new InvalidOperationException("the nearest-patch graph chose a padding row.");
            }
        }
    }

    /// <summary>
    /// The graph (opset 13): query [rows, D] -> MatMul with the constant -2 B^T [D, G x P] -> Add |b|^2 [G x P] -> Reshape
    /// [rows, G, P] -> ArgMin over P (first index on ties) -> nearest [rows, G] int64.
    /// </summary>
    private static byte[] CreateModel(float[][] groups, int[] groupPatches, int patchesPerGroup, int dimension)
    {
        var candidates = groups.Length * patchesPerGroup;
        var transposed = new float[(long)dimension * candidates];
        var norms = new float[candidates];
        for (var g = 0; g < groups.Length; g++)
        {
            for (var p = 0; p < patchesPerGroup; p++)
            {
                var column = g * patchesPerGroup + p;
                if (p >= groupPatches[g])
                {
                    norms[column] = PaddingNorm;
                    continue;
                }
                var row = groups[g].AsSpan(p * dimension, dimension);
                var norm = 0.0;
                for (var t = 0; t < dimension; t++)
                {
                    transposed[(long)t * candidates + column] = -2f * row[t];
                    norm += (double)row[t] * row[t];
                }
                norms[column] = (float)norm;
            }
        }
        var graph = new OnnxGraphBuilder("nearest_patch_search");
        graph.AddInput("query", OnnxElementType.Float, [OnnxDimension.Symbolic("rows"), OnnxDimension.Fixed(dimension)]);
        graph.AddInitializer("references_t", transposed, dimension, candidates);
        graph.AddInitializer("reference_norms", norms, candidates);
        graph.AddInt64Initializer("group_shape", -1, groups.Length, patchesPerGroup);
        graph.AddNode("MatMul", "products", ["query", "references_t"], ["products"]);
        graph.AddNode("Add", "partial_distances", ["products", "reference_norms"], ["partial_distances"]);
        graph.AddNode("Reshape", "by_group", ["partial_distances", "group_shape"], ["by_group"]);
        graph.AddNode("ArgMin", "nearest", ["by_group"], ["nearest"],
            OnnxGraphBuilder.Int("axis", 2), OnnxGraphBuilder.Int("keepdims", 0), OnnxGraphBuilder.Int("select_last_index", 0));
        graph.AddOutput("nearest", OnnxElementType.Int64, [OnnxDimension.Symbolic("rows"), OnnxDimension.Fixed(groups.Length)]);
        return graph.Build("1", "Nearest reference patch per query patch and reference group (AnomalyClustering patch scores).");
    }

    private static void CheckFits(long patches, int dimension)
    {
        if (!Fits(patches, dimension))
        {
            throw new ArgumentException(
                $"{patches} reference patches of {dimension} values exceed the {MaxConstantBytes >> 20} MiB a nearest-patch graph holds; the CPU kernel takes them.");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _session.Dispose();
        _runOptions.Dispose();
    }
}
