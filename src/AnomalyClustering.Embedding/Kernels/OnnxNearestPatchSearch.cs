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
/// of candidates per reference group) and ArgMin choose each group's nearest patch; Gather, Cast and ReduceSum then give
/// its distance in double precision, on the backbone's execution provider. The reference patches (a job's reference pool,
/// one group per reference image, or its normal bank, one group) are constants of the graph, so the provider keeps them
/// on the device and each image sends only its own patches.
/// </summary>
/// <remarks>
/// The graph chooses the nearest patch from |b|^2 - 2 a.b in float32 (|a|^2 is the same for every candidate of a row) and
/// then computes the distance to the chosen patch exactly in double precision: the squares of the double differences
/// summed, as <see cref="NearestPatchDistances.Exact"/> does on the CPU, in the provider's order of summation. So a score
/// is the CPU kernel's to double rounding (1e-12 relative in the tests) whenever both choose the same patch, and differs
/// by the choice's rounding in a near tie otherwise. The session never lets CUDA use TF32, whatever the backbone does:
/// on an H200 TF32 chose another patch than the CPU for 4 to 78 of an image's 784 patches (scores up to 9.6e-6 apart),
/// full float32 for none of them (every score within 1e-12), for 26-32 % more of the graph's time (1.36 against 1.08 ms
/// an image at 16 references; docs/BENCHMARKS.md). With TensorRT asked for it runs on CUDA (<see cref="SmallGraphRuntime"/>),
/// whose TF32 can be switched off. Why on the device:
/// measured on an H200 (docs/BENCHMARKS.md, "The GPU worker on an H200"), the distances of the chosen patches took 5 ms of
/// one CPU core per image at 16 references against 0.4 ms of GPU for the whole choice: the reference patches live in the
/// GPU's memory, and the CPU would read each chosen one from its own memory at random. Device memory: the constants
/// (patches x dimension floats, at most <see cref="MaxConstantBytes"/>) and, per run, the float32 matrix of query rows x
/// reference patches and the chosen patches in double, bounded by running the query in slices of rows.
/// Thread-safe: ONNX Runtime sessions take concurrent runs, so the image grains of a job share one search.
/// </remarks>
public sealed class OnnxNearestPatchSearch : IDisposable
{
    /// <summary>The most bytes of reference patches one search holds as graph constants (an ONNX model is at most 2 GB).</summary>
    public const long MaxConstantBytes = 1L << 30;

    // The largest intermediate of one run (BytesPerRow); queries are run in slices of rows that fit.
    internal const long DefaultMaxProductBytes = 256L << 20;

    // Padding rows (groups with fewer patches than the largest) get this squared norm: their products are 0, so their
    // candidates are +infinity, which no real candidate exceeds and ArgMin's first-index rule gives to the real patches
    // (first in each group) on a tie. (A finite 1e30 lost to real values near 1e16, which the kernels accept.)
    private const float PaddingNorm = float.PositiveInfinity;

    private readonly OnnxSession _onnx;
    // Patches of each group; the patches themselves live only in the session (on the device), none are kept here.
    private readonly int[] _groupPatches;
    private readonly int _patchesPerGroup;
    private readonly long _maxRunBytes;

    private OnnxNearestPatchSearch(float[][] groups, int[] groupPatches, int dimension, BackboneRuntimeOptions runtime, long maxProductBytes)
    {
        _groupPatches = groupPatches;
        Dimension = dimension;
        _patchesPerGroup = groupPatches.Max();
        _maxRunBytes = maxProductBytes;
        // Full float32 products on a GPU: the scores must be the CPU kernel's (see the remarks).
        var onDevice = SmallGraphRuntime.For(runtime) with { AllowTf32 = false };
        using var options = onDevice.CreateSessionOptions();
        _onnx = new OnnxSession(ExecutionProviders.CreateSession(CreateModel(groups, groupPatches, _patchesPerGroup, dimension), options, onDevice.ExecutionProvider));
    }

    /// <summary>Reference groups the search holds.</summary>
    public int GroupCount => _groupPatches.Length;

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
        ObjectDisposedException.ThrowIf(_onnx.IsDisposed, this);
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
        var used = groups.Select(group => (long)group).ToArray();
        var distances = new double[(long)query.PatchCount * used.Length];
        var rowsPerRun = (int)Math.Clamp(_maxRunBytes / BytesPerRow(GroupCount, _patchesPerGroup, used.Length, Dimension), 1, int.MaxValue);
        for (var first = 0; first < query.PatchCount; first += rowsPerRun)
        {
            var rows = Math.Min(rowsPerRun, query.PatchCount - first);
            RunSlice(query.Data.AsMemory(first * Dimension, rows * Dimension), rows, used, distances.AsSpan(first * used.Length, rows * used.Length));
        }
        for (var k = 0; k < query.PatchCount; k++)
        {
            // Summed in the list's order, as the CPU kernel does.
            var total = 0.0;
            for (var u = 0; u < used.Length; u++)
            {
                total += distances[(long)k * used.Length + u];
            }
            scores[k] = total / used.Length;
        }
    }

    /// <summary>
    /// Bytes of the largest intermediate per query row: the float32 candidates of every group (groups x patches) or the
    /// chosen patches of the used groups in double with their differences (used x dimension, twice).
    /// </summary>
    internal static long BytesPerRow(int groups, int patchesPerGroup, int used, int dimension) =>
        Math.Max((long)groups * patchesPerGroup * sizeof(float), 2L * used * dimension * sizeof(double));

    private void RunSlice(ReadOnlyMemory<float> rows, int rowCount, long[] used, Span<double> distances)
    {
        using var pinned = rows.Pin();
        unsafe
        {
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [rowCount, Dimension], (nint)pinned.Pointer, (long)rowCount * Dimension * sizeof(float));
            using var groups = OrtValue.CreateTensorValueFromMemory(used, [used.Length]);
            using var results = _onnx.Session.Run(_onnx.RunOptions, ["query", "groups"], [input, groups], ["nearest", "distances"]);
            var indices = results[0].GetTensorDataAsSpan<long>();
            for (var i = 0; i < indices.Length; i++)
            {
                // A padding row never wins; an index past a short group's patches would mean the graph is wrong.
                if (indices[i] >= _groupPatches[used[i % used.Length]])
                {
                    throw new InvalidOperationException("the nearest-patch graph chose a padding row.");
                }
            }
            results[1].GetTensorDataAsSpan<double>().CopyTo(distances);
        }
    }

    /// <summary>
    /// The graph (opset 13): query [rows, D] -> MatMul with the constant -2 B^T [D, G x P] -> Add |b|^2 [G x P] -> Reshape
    /// [rows, G, P] -> Gather the used groups (input groups [U]) -> ArgMin over P (first index on ties) -> nearest [rows, U]
    /// int64; then the chosen columns of -2 B^T (Gather, Transpose: [rows, U, D]) in double times -0.5 (exactly b: scaling
    /// by a power of two is exact), minus the query in double, squared, summed over D, square root -> distances [rows, U]
    /// float64. Only the used groups' choices and distances are computed: a job's pool may hold hundreds of references
    /// of which each image uses a few.
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
        graph.AddInput("groups", OnnxElementType.Int64, [OnnxDimension.Symbolic("used")]);
        graph.AddNode("Gather", "used_groups", ["by_group", "groups"], ["used_groups"], OnnxGraphBuilder.Int("axis", 1));
        graph.AddNode("ArgMin", "nearest", ["used_groups"], ["nearest"],
            OnnxGraphBuilder.Int("axis", 2), OnnxGraphBuilder.Int("keepdims", 0), OnnxGraphBuilder.Int("select_last_index", 0));
        graph.AddInt64Initializer("group_offsets", [.. Enumerable.Range(0, groups.Length).Select(g => (long)g * patchesPerGroup)]);
        graph.AddInt64Initializer("group_axis", 1);
        graph.AddInt64Initializer("dimension_axis", 2);
        graph.AddDoubleScalar("minus_half", -0.5);
        graph.AddNode("Gather", "used_offsets", ["group_offsets", "groups"], ["used_offsets"], OnnxGraphBuilder.Int("axis", 0));
        graph.AddNode("Add", "chosen_columns", ["nearest", "used_offsets"], ["chosen_columns"]);
        graph.AddNode("Gather", "chosen_t", ["references_t", "chosen_columns"], ["chosen_t"], OnnxGraphBuilder.Int("axis", 1));
        graph.AddNode("Transpose", "chosen_scaled", ["chosen_t"], ["chosen_scaled"], OnnxGraphBuilder.Ints("perm", 1, 2, 0));
        graph.AddNode("Cast", "chosen_scaled_double", ["chosen_scaled"], ["chosen_scaled_double"], OnnxGraphBuilder.Int("to", (long)OnnxElementType.Double));
        graph.AddNode("Mul", "chosen", ["chosen_scaled_double", "minus_half"], ["chosen"]);
        graph.AddNode("Unsqueeze", "query_row", ["query", "group_axis"], ["query_row"]);
        graph.AddNode("Cast", "query_double", ["query_row"], ["query_double"], OnnxGraphBuilder.Int("to", (long)OnnxElementType.Double));
        graph.AddNode("Sub", "differences", ["query_double", "chosen"], ["differences"]);
        graph.AddNode("Mul", "squares", ["differences", "differences"], ["squares"]);
        graph.AddNode("ReduceSum", "squared_distances", ["squares", "dimension_axis"], ["squared_distances"], OnnxGraphBuilder.Int("keepdims", 0));
        graph.AddNode("Sqrt", "distances", ["squared_distances"], ["distances"]);
        graph.AddOutput("nearest", OnnxElementType.Int64, [OnnxDimension.Symbolic("rows"), OnnxDimension.Symbolic("used")]);
        graph.AddOutput("distances", OnnxElementType.Double, [OnnxDimension.Symbolic("rows"), OnnxDimension.Symbolic("used")]);
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
    public void Dispose() => _onnx.Dispose();
}
