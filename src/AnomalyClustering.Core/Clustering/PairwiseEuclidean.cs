using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Condensed Euclidean distances, bit-identical to SciPy's <c>pdist</c>: every distance is
/// sqrt(((0 + d_0^2) + d_1^2) + ... + d_{D-1}^2) with d_k = x_k - y_k in double, summed in
/// coordinate order. Exactness rules out the faster |a|^2 + |b|^2 - 2ab form (its rounding
/// changes near-ties, hence merges), so the SIMD runs across pairs instead of across coordinates:
/// each Vector256 lane holds one pair's running sum. O(N^2 D) time over all cores, O(N D) scratch.
/// </summary>
internal static unsafe class PairwiseEuclidean
{
    /// <summary>Points per panel: four Vector256&lt;double&gt; of pair sums per row.</summary>
    private const int PanelWidth = 16;

    /// <summary>About half an L2 cache of panels per tile, so a tile stays cached while every row streams past it.</summary>
    private const int TileBytes = 256 * 1024;

    /// <summary>Fills <paramref name="condensed"/> (length N(N-1)/2) from row-major <paramref name="rows"/>.</summary>
    public static void Compute(ReadOnlySpan<double> rows, int count, int dimension, double[] condensed)
    {
        // Panels: the points transposed in groups of 16, coordinate-major, so one coordinate of
        // 16 points is four adjacent vectors. Padding points are zero and never stored.
        var panelCount = (count + PanelWidth - 1) / PanelWidth;
        var panelStride = PanelWidth * dimension;
        var panels = GC.AllocateUninitializedArray<double>(checked(panelCount * panelStride));
        for (var p = 0; p < panelCount; p++)
        {
            var panel = panels.AsSpan(p * panelStride, panelStride);
            for (var lane = 0; lane < PanelWidth; lane++)
            {
                var point = p * PanelWidth + lane;
                if (point < count)
                {
                    var row = rows.Slice(point * dimension, dimension);
                    for (var k = 0; k < dimension; k++)
                    {
                        panel[k * PanelWidth + lane] = row[k];
                    }
                }
                else
                {
                    for (var k = 0; k < dimension; k++)
                    {
                        panel[k * PanelWidth + lane] = 0;
                    }
                }
            }
        }

        var rowBases = CondensedDistanceMatrix.RowBases(count);
        var panelsPerTile = Math.Clamp(TileBytes / (panelStride * sizeof(double)), 1, 16);
        var tileCount = (panelCount + panelsPerTile - 1) / panelsPerTile;
        fixed (double* rowsPointer = rows)
        fixed (double* panelsPointer = panels)
        fixed (double* output = condensed)
        fixed (long* basesPointer = rowBases)
        {
            var job = new Job((nint)rowsPointer, (nint)panelsPointer, (nint)output, (nint)basesPointer, count, dimension, panelsPerTile, panelCount);
            // Tile t pairs its points with every earlier point, so work grows with t: hand out the
            // big tiles first so that the last ones to finish are small.
            Parallel.For(0, tileCount, t => job.Tile(tileCount - 1 - t));
        }
    }

    private readonly struct Job(nint rows, nint panels, nint output, nint rowBases, int count, int dimension, int panelsPerTile, int panelCount)
    {
        public void Tile(int tile)
        {
            var firstPanel = tile * panelsPerTile;
            var endPanel = Math.Min(firstPanel + panelsPerTile, panelCount);
            var endPoint = Math.Min(endPanel * PanelWidth, count);
            var x = (double*)rows;
            // Every row i that has a partner j > i inside this tile's columns.
            for (var i = 0; i < endPoint - 1; i += 2)
            {
                var second = i + 1 < endPoint - 1 ? i + 1 : i;
                var startPanel = Math.Max(firstPanel, (i + 1) / PanelWidth);
                for (var p = startPanel; p < endPanel; p++)
                {
                    PanelKernel(x + (long)i * dimension, x + (long)second * dimension, i, second, p);
                }
            }
        }

        /// <summary>Rows a and b against the 16 points of panel p: 8 independent accumulators hide the add latency.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        [SkipLocalsInit]
        private void PanelKernel(double* a, double* b, int rowA, int rowB, int p)
        {
            var q = (double*)panels + (long)p * PanelWidth * dimension;
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            var a2 = Vector256<double>.Zero;
            var a3 = Vector256<double>.Zero;
            var b0 = Vector256<double>.Zero;
            var b1 = Vector256<double>.Zero;
            var b2 = Vector256<double>.Zero;
            var b3 = Vector256<double>.Zero;
            for (var k = 0; k < dimension; k++, q += PanelWidth)
            {
                var xa = Vector256.Create(a[k]);
                var xb = Vector256.Create(b[k]);
                var q0 = Vector256.Load(q);
                var q1 = Vector256.Load(q + 4);
                var q2 = Vector256.Load(q + 8);
                var q3 = Vector256.Load(q + 12);
                // Multiply then add, never fused: SciPy's sum rounds after each product.
                var d = xa - q0; a0 += d * d;
                d = xa - q1; a1 += d * d;
                d = xa - q2; a2 += d * d;
                d = xa - q3; a3 += d * d;
                d = xb - q0; b0 += d * d;
                d = xb - q1; b1 += d * d;
                d = xb - q2; b2 += d * d;
                d = xb - q3; b3 += d * d;
            }
            // Park the sums in memory before any call: sums live across a call would make the JIT
            // spill all eight accumulators inside the loop (no callee-saved vector registers on x64 Unix).
            var sums = stackalloc double[2 * PanelWidth];
            Vector256.Store(Vector256.Sqrt(a0), sums);
            Vector256.Store(Vector256.Sqrt(a1), sums + 4);
            Vector256.Store(Vector256.Sqrt(a2), sums + 8);
            Vector256.Store(Vector256.Sqrt(a3), sums + 12);
            Vector256.Store(Vector256.Sqrt(b0), sums + 16);
            Vector256.Store(Vector256.Sqrt(b1), sums + 20);
            Vector256.Store(Vector256.Sqrt(b2), sums + 24);
            Vector256.Store(Vector256.Sqrt(b3), sums + 28);
            var firstColumn = p * PanelWidth;
            Store(rowA, firstColumn, sums);
            if (rowB != rowA)
            {
                Store(rowB, firstColumn, sums + PanelWidth);
            }
        }

        /// <summary>Writes a row's 16 distances to columns [firstColumn, firstColumn + 16), keeping only pairs above the diagonal.</summary>
        private void Store(int row, int firstColumn, double* distances)
        {
            var destination = (double*)output + ((long*)rowBases)[row];
            if (firstColumn > row && firstColumn + PanelWidth <= count)
            {
                Vector256.Store(Vector256.Load(distances), destination + firstColumn);
                Vector256.Store(Vector256.Load(distances + 4), destination + firstColumn + 4);
                Vector256.Store(Vector256.Load(distances + 8), destination + firstColumn + 8);
                Vector256.Store(Vector256.Load(distances + 12), destination + firstColumn + 12);
                return;
            }
            for (var lane = 0; lane < PanelWidth; lane++)
            {
                var j = firstColumn + lane;
                if (j > row && j < count)
                {
                    destination[j] = distances[lane];
                }
            }
        }
    }
}
