using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// The nearest-patch engine: for packed query rows a_k and reference rows b_l it finds
/// argmin_l ||a_k - b_l|| (and optionally argmin_k for every b_l) without materialising the
/// distance matrix, then recomputes the chosen distances exactly in double precision.
/// </summary>
/// <remarks>
/// <para>
/// Search: squared distances are |a|^2 + |b|^2 - 2 a.b, the dot products coming from a blocked,
/// packed SGEMM (GotoBLAS/BLIS structure): a 6 x 16 micro-kernel holding 12 Vector256 accumulators
/// and doing 12 FMAs per k step, k blocked by <see cref="KBlock"/> so that one 16-row reference
/// micro-panel (16 KB) stays in L1 while the query block (96 rows) stays in L2. After the last k
/// block the 96 x 256 tile of dot products is scanned once for the row minima (and column minima),
/// so memory stays O(tile), not O(M x M'). Cost O(M M' T) flops, O(M + M') extra memory per worker.
/// </para>
/// <para>
/// Accuracy: the GEMM identity loses precision by cancellation when a and b are close, so it is only
/// used to choose the nearest row; the distance to that row is then recomputed as
/// sqrt(sum_t ((double)a_t - (double)b_t)^2), O(M T). The result is the exact distance of a row whose
/// float32 squared distance is within rounding of the minimum; on near ties that may be the runner-up,
/// off by at most that rounding (about 1e-6 |a|^2 in the squared distance).
/// </para>
/// <para>
/// Determinism: ties choose the lowest index; every value is computed in a fixed order that does not
/// depend on the number of workers, so results are identical for any degree of parallelism.
/// Parallelism: the query panels are split into one contiguous range per worker (callers with many
/// references use one single-worker instance per thread instead, see NearestPatchRunner).
/// Not thread-safe: one instance serves one caller at a time and reuses its buffers.
/// </para>
/// </remarks>
internal sealed unsafe class NearestPatchSearch
{
    /// <summary>Query rows per micro-kernel panel (the kernel's M side).</summary>
    internal const int QueryPanelWidth = 6;

    /// <summary>Reference rows per micro-kernel panel (the kernel's N side: two Vector256).</summary>
    internal const int ReferencePanelWidth = 16;

    /// <summary>Length of one k block: 16 x 256 floats = 16 KB of reference panel, resident in L1.</summary>
    internal const int KBlock = 256;

    /// <summary>Query panels per block (96 rows: 96 x 256 floats = 96 KB per k block, resident in L2).</summary>
    internal const int QueryBlockPanels = 16;

    /// <summary>Reference panels per block (256 rows); the dot-product tile is 96 x 256 floats.</summary>
    internal const int ReferenceBlockPanels = 16;

    private const int TileRows = QueryBlockPanels * QueryPanelWidth;
    private const int TileColumns = ReferenceBlockPanels * ReferencePanelWidth;

    private readonly WorkerState[] workers;
    private readonly bool useFastKernel;

    private float[] rowBestValue = [];
    private float[] columnBestValue = [];

    /// <summary>Creates an engine using at most <paramref name="maxDegreeOfParallelism"/> threads (-1 or 0: all processors).</summary>
    public NearestPatchSearch(int maxDegreeOfParallelism = -1, bool allowFastKernel = true)
    {
        var degree = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        workers = new WorkerState[Math.Max(1, degree)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = new WorkerState();
        }
        useFastKernel = allowFastKernel && IsFastKernelSupported;
    }

    /// <summary>True where the AVX2 + FMA micro-kernel runs; elsewhere a portable scalar kernel (multiply then add) finds the same nearest patches up to near ties, slowly.</summary>
    public static bool IsFastKernelSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether this instance uses the AVX2 + FMA micro-kernel.</summary>
    public bool UsesFastKernel => useFastKernel;

    /// <summary>After <see cref="Search"/>: for every query row, the index of its nearest reference row.</summary>
    public int[] RowNearest { get; private set; } = [];

    /// <summary>After <see cref="Search"/>: for every query row, the exact distance to its nearest reference row.</summary>
    public double[] RowDistance { get; private set; } = [];

    /// <summary>After <see cref="Search"/> with columns: for every reference row, the index of its nearest query row.</summary>
    public int[] ColumnNearest { get; private set; } = [];

    /// <summary>After <see cref="Search"/> with columns: for every reference row, the exact distance to its nearest query row.</summary>
    public double[] ColumnDistance { get; private set; } = [];

    /// <summary>
    /// Packs the panels of a matrix that was <see cref="PanelMatrix.Resize"/>d with its row-major source,
    /// split over the workers. O(rows x dimension).
    /// </summary>
    public void Pack(PanelMatrix matrix)
    {
        var packers = Math.Min(workers.Length, matrix.PanelCount);
        if (packers == 1)
        {
            matrix.PackPanels(0, matrix.PanelCount);
            return;
        }
        Parallel.For(0, packers, new ParallelOptions { MaxDegreeOfParallelism = packers }, w =>
            matrix.PackPanels(Share(matrix.PanelCount, w, packers), Share(matrix.PanelCount, w + 1, packers)));
    }

    /// <summary>
    /// Finds the nearest reference row of every query row and its exact distance (and, if
    /// <paramref name="columns"/>, the same for every reference row among the query rows).
    /// O(M M' T) flops plus O((M + M') T) for the exact distances, on the available workers.
    /// </summary>
    public void Search(PanelMatrix query, PanelMatrix reference, bool columns)
    {
        if (query.PanelWidth != QueryPanelWidth || reference.PanelWidth != ReferencePanelWidth || query.Dimension != reference.Dimension)
        {
            throw new InvalidOperationException("query and reference must be packed for this kernel with one dimension.");
        }
        EnsureCapacity(ref rowBestValue, query.Rows);
        var rowNearest = RowNearest;
        var rowDistance = RowDistance;
        EnsureCapacity(ref rowNearest, query.Rows);
        EnsureCapacity(ref rowDistance, query.Rows);
        (RowNearest, RowDistance) = (rowNearest, rowDistance);
        var workerCount = Math.Min(workers.Length, query.PanelCount);
        foreach (var worker in workers.AsSpan(0, workerCount))
        {
            worker.Prepare(reference.Rows, query.Dimension, columns);
        }
        if (workerCount == 1)
        {
            RunWorker(workers[0], query, reference, columns, 0, query.PanelCount);
        }
        else
        {
            Parallel.For(0, workerCount, new ParallelOptions { MaxDegreeOfParallelism = workerCount }, w =>
                RunWorker(workers[w], query, reference, columns, Share(query.PanelCount, w, workerCount), Share(query.PanelCount, w + 1, workerCount)));
        }
        if (columns)
        {
            MergeColumns(workerCount, reference.Rows);
            var columnWorkers = Math.Min(workers.Length, reference.Rows);
            if (columnWorkers == 1)
            {
                ExactColumnDistances(workers[0], query, reference, 0, reference.Rows);
            }
            else
            {
                Parallel.For(0, columnWorkers, new ParallelOptions { MaxDegreeOfParallelism = columnWorkers }, w =>
                    ExactColumnDistances(workers[w], query, reference, Share(reference.Rows, w, columnWorkers), Share(reference.Rows, w + 1, columnWorkers)));
            }
        }
    }

    /// <summary>
    /// sqrt(sum_t ((double)x_t - (double)y_t)^2) in a fixed order (two 4-lane double accumulators, plain
    /// multiply and add, a fixed reduction tree), so the value is the same on every machine and symmetric in x and y. O(T).
    /// </summary>
    public static double ExactDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        var t = 0;
        for (; t + Vector256<float>.Count <= x.Length; t += Vector256<float>.Count)
        {
            var (xLow, xHigh) = Vector256.Widen(Vector256.Create(x.Slice(t, Vector256<float>.Count)));
            var (yLow, yHigh) = Vector256.Widen(Vector256.Create(y.Slice(t, Vector256<float>.Count)));
            var dLow = xLow - yLow;
            var dHigh = xHigh - yHigh;
            acc0 += dLow * dLow;
            acc1 += dHigh * dHigh;
        }
        var lanes = acc0 + acc1;
        var sum = (lanes.GetElement(0) + lanes.GetElement(1)) + (lanes.GetElement(2) + lanes.GetElement(3));
        for (; t < x.Length; t++)
        {
            var d = (double)x[t] - y[t];
            sum += d * d;
        }
        return Math.Sqrt(sum);
    }

    private void RunWorker(WorkerState state, PanelMatrix query, PanelMatrix reference, bool columns, int panelStart, int panelEnd)
    {
        var dimension = query.Dimension;
        var referencePanels = reference.PanelCount;
        fixed (float* queryBase = &query.Storage[query.Start])
        fixed (float* referenceBase = &reference.Storage[reference.Start])
        fixed (float* tile = &state.Tile[state.TileStart])
        fixed (float* queryNorms = query.SquaredNorms)
        fixed (float* referenceNorms = reference.SquaredNorms)
        fixed (float* rowValue = rowBestValue)
        fixed (int* rowIndex = RowNearest)
        fixed (float* columnValue = state.ColumnValue)
        fixed (int* columnIndex = state.ColumnIndex)
        {
            for (var ic = panelStart; ic < panelEnd; ic += QueryBlockPanels)
            {
                var icEnd = Math.Min(ic + QueryBlockPanels, panelEnd);
                var rowStart = ic * QueryPanelWidth;
                var rowEnd = Math.Min(icEnd * QueryPanelWidth, query.Rows);
                for (var row = rowStart; row < rowEnd; row++)
                {
                    rowValue[row] = float.PositiveInfinity;
                    rowIndex[row] = 0;
                }
                for (var jc = 0; jc < referencePanels; jc += ReferenceBlockPanels)
                {
                    var jcEnd = Math.Min(jc + ReferenceBlockPanels, referencePanels);
                    for (var pc = 0; pc < dimension; pc += KBlock)
                    {
                        var kc = Math.Min(KBlock, dimension - pc);
                        for (var jr = jc; jr < jcEnd; jr++)
                        {
                            var referencePanel = referenceBase + ((nint)jr * dimension + pc) * ReferencePanelWidth;
                            for (var ir = ic; ir < icEnd; ir++)
                            {
                                var queryPanel = queryBase + ((nint)ir * dimension + pc) * QueryPanelWidth;
                                var tileBlock = tile + (ir - ic) * QueryPanelWidth * TileColumns + (jr - jc) * ReferencePanelWidth;
                                if (useFastKernel)
                                {
                                    Kernel6x16(queryPanel, referencePanel, kc, tileBlock, pc > 0);
                                }
                                else
                                {
                                    PortableKernel6x16(queryPanel, referencePanel, kc, tileBlock, pc > 0);
                                }
                            }
                        }
                    }
                    var columnStart = jc * ReferencePanelWidth;
                    var columnEnd = Math.Min(jcEnd * ReferencePanelWidth, reference.Rows);
                    ScanTile(tile, rowStart, rowEnd, columnStart, columnEnd, queryNorms, referenceNorms,
                        rowValue, rowIndex, columns ? columnValue : null, columnIndex);
                }
            }
        }
        var firstRow = panelStart * QueryPanelWidth;
        var endRow = Math.Min(panelEnd * QueryPanelWidth, query.Rows);
        for (var row = firstRow; row < endRow; row++)
        {
            RowDistance[row] = ExactDistance(query.Row(row, state.RowA), reference.Row(RowNearest[row], state.RowB));
        }
    }

    private void ExactColumnDistances(WorkerState state, PanelMatrix query, PanelMatrix reference, int first, int end)
    {
        for (var column = first; column < end; column++)
        {
            ColumnDistance[column] = ExactDistance(query.Row(ColumnNearest[column], state.RowA), reference.Row(column, state.RowB));
        }
    }

    /// <summary>
    /// One pass over a finished tile of dot products: d = (|a|^2 + |b|^2) - 2 a.b (the doubling is exact,
    /// so this is one rounding on every machine), strict less-than in ascending index order so that ties
    /// keep the lowest index. O(tile).
    /// </summary>
    private static void ScanTile(float* tile, int rowStart, int rowEnd, int columnStart, int columnEnd,
        float* queryNorms, float* referenceNorms, float* rowValue, int* rowIndex, float* columnValue, int* columnIndex)
    {
        var laneOffsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (var row = rowStart; row < rowEnd; row++)
        {
            var dots = tile + (row - rowStart) * TileColumns - columnStart;
            var queryNorm = queryNorms[row];
            var queryNormVector = Vector256.Create(queryNorm);
            var rowVector = Vector256.Create(row);
            var bestValue = Vector256.Create(float.PositiveInfinity);
            var bestIndex = Vector256<int>.Zero;
            var index = Vector256.Create(columnStart) + laneOffsets;
            var column = columnStart;
            for (; column + Vector256<float>.Count <= columnEnd; column += Vector256<float>.Count)
            {
                var dot = Vector256.Load(dots + column);
                var distance = (queryNormVector + Vector256.Load(referenceNorms + column)) - (dot + dot);
                var less = Vector256.LessThan(distance, bestValue);
                bestValue = Vector256.ConditionalSelect(less, distance, bestValue);
                bestIndex = Vector256.ConditionalSelect(less.AsInt32(), index, bestIndex);
                index += Vector256.Create(Vector256<float>.Count);
                if (columnValue != null)
                {
                    var columnBest = Vector256.Load(columnValue + column);
                    var columnLess = Vector256.LessThan(distance, columnBest);
                    Vector256.ConditionalSelect(columnLess, distance, columnBest).Store(columnValue + column);
                    Vector256.ConditionalSelect(columnLess.AsInt32(), rowVector, Vector256.Load(columnIndex + column)).Store(columnIndex + column);
                }
            }
            var best = rowValue[row];
            var bestAt = rowIndex[row];
            // Lanes hold candidates with ascending indices per lane; across lanes a tie goes to the lower index.
            // Earlier blocks (lower indices) already sit in rowValue, so they win ties through strict less-than.
            var blockBest = float.PositiveInfinity;
            var blockBestAt = int.MaxValue;
            for (var lane = 0; lane < Vector256<float>.Count; lane++)
            {
                var value = bestValue.GetElement(lane);
                var at = bestIndex.GetElement(lane);
                if (value < blockBest || (value == blockBest && at < blockBestAt))
                {
                    blockBest = value;
                    blockBestAt = at;
                }
            }
            if (blockBest < best)
            {
                best = blockBest;
                bestAt = blockBestAt;
            }
            for (; column < columnEnd; column++)
            {
                var dot = dots[column];
                var distance = (queryNorm + referenceNorms[column]) - (dot + dot);
                if (distance < best)
                {
                    best = distance;
                    bestAt = column;
                }
                if (columnValue != null && distance < columnValue[column])
                {
                    columnValue[column] = distance;
                    columnIndex[column] = row;
                }
            }
            rowValue[row] = best;
            rowIndex[row] = bestAt;
        }
    }

    /// <summary>
    /// The 6 x 16 micro-kernel: C[6 x 16] (+)= A-panel^T B-panel over kc steps, 12 Vector256
    /// accumulators, 2 loads + 6 broadcasts + 12 FMAs per step. Tile row stride is TileColumns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(float* a, float* b, int kc, float* c, bool accumulate)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Avx.LoadVector256(c); c01 = Avx.LoadVector256(c + 8);
            c10 = Avx.LoadVector256(c + TileColumns); c11 = Avx.LoadVector256(c + TileColumns + 8);
            c20 = Avx.LoadVector256(c + 2 * TileColumns); c21 = Avx.LoadVector256(c + 2 * TileColumns + 8);
            c30 = Avx.LoadVector256(c + 3 * TileColumns); c31 = Avx.LoadVector256(c + 3 * TileColumns + 8);
            c40 = Avx.LoadVector256(c + 4 * TileColumns); c41 = Avx.LoadVector256(c + 4 * TileColumns + 8);
            c50 = Avx.LoadVector256(c + 5 * TileColumns); c51 = Avx.LoadVector256(c + 5 * TileColumns + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        for (var k = 0; k < kc; k++)
        {
            var b0 = Avx.LoadAlignedVector256(b);
            var b1 = Avx.LoadAlignedVector256(b + 8);
            var a0 = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(a0, b0, c00);
            c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(a1, b0, c10);
            c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(a2, b0, c20);
            c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(a3, b0, c30);
            c31 = Fma.MultiplyAdd(a3, b1, c31);
            var a4 = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(a4, b0, c40);
            c41 = Fma.MultiplyAdd(a4, b1, c41);
            var a5 = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(a5, b0, c50);
            c51 = Fma.MultiplyAdd(a5, b1, c51);
            a += QueryPanelWidth;
            b += ReferencePanelWidth;
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01);
        Avx.Store(c + TileColumns, c10); Avx.Store(c + TileColumns + 8, c11);
        Avx.Store(c + 2 * TileColumns, c20); Avx.Store(c + 2 * TileColumns + 8, c21);
        Avx.Store(c + 3 * TileColumns, c30); Avx.Store(c + 3 * TileColumns + 8, c31);
        Avx.Store(c + 4 * TileColumns, c40); Avx.Store(c + 4 * TileColumns + 8, c41);
        Avx.Store(c + 5 * TileColumns, c50); Avx.Store(c + 5 * TileColumns + 8, c51);
    }

    /// <summary>The same product without AVX2/FMA (other CPUs); a sequential multiply-add chain per element, symmetric in a and b.</summary>
    private static void PortableKernel6x16(float* a, float* b, int kc, float* c, bool accumulate)
    {
        for (var i = 0; i < QueryPanelWidth; i++)
        {
            for (var j = 0; j < ReferencePanelWidth; j++)
            {
                var sum = accumulate ? c[i * TileColumns + j] : 0f;
                for (var k = 0; k < kc; k++)
                {
                    sum += a[k * QueryPanelWidth + i] * b[k * ReferencePanelWidth + j];
                }
                c[i * TileColumns + j] = sum;
            }
        }
    }

    private void MergeColumns(int workerCount, int referenceRows)
    {
        // Workers own ascending query ranges, so strict less-than in worker order keeps the lowest index on ties.
        EnsureCapacity(ref columnBestValue, referenceRows);
        var columnNearest = ColumnNearest;
        var columnDistance = ColumnDistance;
        EnsureCapacity(ref columnNearest, referenceRows);
        EnsureCapacity(ref columnDistance, referenceRows);
        (ColumnNearest, ColumnDistance) = (columnNearest, columnDistance);
        workers[0].ColumnValue.AsSpan(0, referenceRows).CopyTo(columnBestValue);
        workers[0].ColumnIndex.AsSpan(0, referenceRows).CopyTo(ColumnNearest);
        for (var w = 1; w < workerCount; w++)
        {
            var values = workers[w].ColumnValue;
            var indices = workers[w].ColumnIndex;
            for (var l = 0; l < referenceRows; l++)
            {
                if (values[l] < columnBestValue[l])
                {
                    columnBestValue[l] = values[l];
                    ColumnNearest[l] = indices[l];
                }
            }
        }
    }

    /// <summary>Start of part <paramref name="part"/> when <paramref name="count"/> items are split into <paramref name="parts"/> contiguous parts.</summary>
    private static int Share(int count, int part, int parts) => (int)((long)count * part / parts);

    private static void EnsureCapacity<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
    }

    /// <summary>Buffers owned by one worker: its dot-product tile, its column minima, scratch rows.</summary>
    private sealed class WorkerState
    {
        public float[] Tile { get; } = GC.AllocateArray<float>(TileRows * TileColumns + 16, pinned: true);

        public int TileStart { get; } = 0;

        public float[] ColumnValue = [0f];

        public int[] ColumnIndex = [0];

        public float[] RowA = [];

        public float[] RowB = [];

        public WorkerState()
        {
            TileStart = AlignedOffset(Tile);
        }

        public void Prepare(int referenceRows, int dimension, bool columns)
        {
            if (RowA.Length < dimension)
            {
                RowA = new float[dimension];
                RowB = new float[dimension];
            }
            if (!columns)
            {
                return;
            }
            EnsureCapacity(ref ColumnValue, referenceRows);
            EnsureCapacity(ref ColumnIndex, referenceRows);
            ColumnValue.AsSpan(0, referenceRows).Fill(float.PositiveInfinity);
            ColumnIndex.AsSpan(0, referenceRows).Clear();
        }

        private static int AlignedOffset(float[] array)
        {
            fixed (float* p = array)
            {
                var misalignment = (int)((nuint)p % 64);
                return misalignment == 0 ? 0 : (64 - misalignment) / sizeof(float);
            }
        }
    }
}
