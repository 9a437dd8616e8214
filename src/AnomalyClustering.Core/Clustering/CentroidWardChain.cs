using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Exact Ward linkage without a distance matrix: SciPy's nearest-neighbour chain run on cluster
/// centroids and sizes, with Ward's distance in centroid form,
/// d(A,B) = sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||, which is the value SciPy's Lance-Williams
/// update produces (up to rounding). O(N D) memory (<see cref="SplitFloatCentroids"/>: N x D floats
/// for float points, plus <see cref="CentroidProjection"/>'s N x P floats and O(N)), O(N^2 D)
/// time: every chain step (about 2-3 N of them) scans the live centroids once.
/// </summary>
/// <remarks>
/// <para>
/// The chain, the tie-breaking (smallest distance, ties to the lowest index, the previous chain
/// element kept unless something is strictly closer) and the slot a merged cluster lives in (the
/// larger index) are SciPy's <c>_hierarchy.nn_chain</c>, so the merges and their order are
/// SciPy's wherever rounding does not turn a near-tie around. Comparisons use the squared distance.
/// </para>
/// <para>
/// A scan is a filter, then an exact choice. The filter skips a row whose projected distance
/// bound already exceeds the best upper bound found, and otherwise computes the float distance
/// from x's high row to the row's upper halves (<see cref="SplitFloatCentroids.Top"/>: half the
/// bytes), turns it into a lower and an upper bound on the exact distance (its rounding, x's low
/// part and the row's slack), keeps the row as a candidate if the lower bound does not exceed the
/// best upper bound, and lowers that. The exact choice computes the candidates' distances in
/// double (high + low), in order of their lower bounds until one exceeds the best value, and takes
/// the smallest, ties to the lowest index: the answer a full double scan gives, because every row
/// it could pick is a candidate. Each scan is split over at most
/// <c>maxDegreeOfParallelism</c> contiguous ranges of the live clusters; the candidates depend on
/// the split, the exact choice does not, so neither does the tree.
/// </para>
/// </remarks>
internal static unsafe class CentroidWardChain
{
    /// <summary>
    /// Below this many live values (clusters x D) a scan runs on one thread, unless the scan before
    /// it read at least an eighth of this many values of rows (<see cref="Scan.RowsRead"/>). Where
    /// the bounds skip most rows a scan of 20,000 x 256 takes about 0.1 ms on one core, no more
    /// than a fork and join costs on a busy machine (measured: 2 threads took 2x the CPU time and
    /// 7x the wall time of 1 at 20,000 x 256 mixtures under load); where they skip little (data
    /// without cluster structure) a scan reads megabytes of rows at memory speed, and two cores
    /// read them faster than one.
    /// </summary>
    internal const long DefaultParallelScanThreshold = 1 << 23;

    /// <summary>Positions a scan bounds before it reads the kept rows (a multiple of 8).</summary>
    private const int ChunkPositions = 512;

    /// <summary>How many kept rows ahead of the one being read a scan asks for.</summary>
    private const int PrefetchAhead = 2;

    /// <summary>
    /// Links the clusters of <paramref name="centroids"/> (overwritten: merged centroids live in the
    /// larger index's row) whose initial sizes are <paramref name="weights"/> (1 for points; member
    /// counts for micro-clusters). Returns the merges in the order found. Scans of fewer than
    /// <paramref name="parallelScanThreshold"/> live values run on one thread (tests lower it);
    /// <paramref name="counts"/>, when given, receives how many scans ran and how many were split.
    /// </summary>
    public static UnsortedMerges Run(SplitFloatCentroids centroids, long[] weights, int maxDegreeOfParallelism, long parallelScanThreshold = DefaultParallelScanThreshold, ScanCounts? counts = null)
    {
        var count = centroids.Count;
        var dimension = centroids.Dimension;
        var merges = new UnsortedMerges(count);
        var size = (long[])weights.Clone();
        var projection = CentroidProjection.Create(centroids);
        var table = new LiveClusterTable(count, projection?.Width ?? 0);
        var scratch = new double[dimension];
        var merged = new double[dimension];
        var coordinates = new float[table.Width];
        for (var i = 0; i < count; i++)
        {
            var error = 0.0;
            if (projection is not null)
            {
                centroids.Load(i, merged);
                error = projection.Project(merged, coordinates);
            }
            table.Set(i, size[i], coordinates, error);
        }
        var chain = new int[count];
        var chainLength = 0;
        var threads = Math.Max(1, maxDegreeOfParallelism);
        var scan = new Scan(centroids, table, size, parallelScanThreshold, new int[table.Stride], new double[table.Stride], new (double, int, int)[threads]) { Counts = counts ?? new ScanCounts() };

        for (var k = 0; k < count - 1; k++)
        {
            if (chainLength == 0)
            {
                chain[0] = table.First();
                chainLength = 1;
            }

            int x, y;
            double nearest;
            while (true)
            {
                x = chain[chainLength - 1];
                if (chainLength > 1)
                {
                    // SciPy starts the scan at the previous element's distance and only a strictly
                    // smaller one displaces it, so the chain never cycles on ties; that distance is
                    // also the first bound of the filter.
                    var previous = chain[chainLength - 2];
                    var toPrevious = scan.SquaredWardDistance(x, previous);
                    (nearest, y) = NearestNeighbour(scan, x, toPrevious, threads);
                    if (!(y >= 0 && nearest < toPrevious))
                    {
                        nearest = toPrevious;
                        y = previous;
                        break;
                    }
                }
                else
                {
                    (nearest, y) = NearestNeighbour(scan, x, double.PositiveInfinity, threads);
                    if (y < 0)
                    {
                        throw new InvalidOperationException($"cluster {x} has no neighbour closer than infinity; the centroids overflowed.");
                    }
                }
                chain[chainLength++] = y;
            }
            chainLength -= 2;

            if (x > y)
            {
                (x, y) = (y, x);
            }
            merges.Add(x, y, Math.Sqrt(nearest));
            centroids.Merge(x, y, size[x], size[y], scratch, merged);
            size[y] += size[x];
            size[x] = 0;
            table.Set(y, size[y], coordinates, projection is null ? 0 : projection.Project(merged, coordinates));
            table.Remove(x);
        }
        return merges;
    }

    /// <summary>
    /// The live cluster nearest to x by Ward's distance (squared) among those strictly closer than
    /// <paramref name="bound"/> (or at it): the smallest value, ties to the lowest index, x itself
    /// skipped. Index -1 when none is. O(N D) at most.
    /// </summary>
    private static (double Value, int Index) NearestNeighbour(Scan scan, int x, double bound, int threads)
    {
        var length = scan.Table.Length;
        var wide = (long)scan.Table.LiveCount * scan.Dimension >= scan.ParallelScanThreshold
            || scan.RowsRead * scan.Dimension >= scan.ParallelScanThreshold / 8;
        var ranges = wide ? threads : 1;
        var top = scan.Choice.ReadTopHalves();
        if (top)
        {
            scan.Counts.TopScans++;
        }
        scan.Centroids.LoadHighInScanOrder(x, new Span<float>(scan.Query, scan.Dimension));
        scan.Counts.Scans++;
        if (ranges > 1)
        {
            scan.Counts.SplitScans++;
        }
        if (ranges == 1)
        {
            scan.Filter(x, bound, top, 0, length, 0);
        }
        else
        {
            // Contiguous ranges in index order, so the candidates taken range by range are in index order.
            Parallel.For(0, ranges, new ParallelOptions { MaxDegreeOfParallelism = ranges }, r =>
            {
                scan.Filter(x, bound, top, RangeStart(length, r, ranges), RangeStart(length, r + 1, ranges), r);
            });
        }
        var upper = bound;
        var rowsRead = 0L;
        for (var r = 0; r < ranges; r++)
        {
            upper = Math.Min(upper, scan.Ranges[r].Upper);
            rowsRead += scan.Ranges[r].RowsRead;
        }
        scan.RowsRead = rowsRead;
        scan.Counts.RowsRead += rowsRead;
        // The candidates that can still win, in order of their lower bounds: the exact distances
        // stop at the first lower bound past the best value found (it cannot be the nearest or tie with it).
        var kept = 0;
        for (var r = 0; r < ranges; r++)
        {
            var start = RangeStart(length, r, ranges);
            var end = start + scan.Ranges[r].Candidates;
            for (var i = start; i < end; i++)
            {
                if (scan.CandidateLower[i] <= upper)
                {
                    scan.OrderedLower[kept] = scan.CandidateLower[i];
                    scan.OrderedCandidates[kept++] = scan.Candidates[i];
                }
            }
        }
        scan.OrderedLower.AsSpan(0, kept).Sort(scan.OrderedCandidates.AsSpan(0, kept));
        var best = double.PositiveInfinity;
        var bestIndex = -1;
        var exact = 0;
        for (; exact < kept && scan.OrderedLower[exact] <= best; exact++)
        {
            var j = scan.OrderedCandidates[exact];
            var value = scan.SquaredWardDistance(x, j);
            if (value < best || (value == best && j < bestIndex))
            {
                best = value;
                bestIndex = j;
            }
        }
        scan.Counts.ExactDistances += exact;
        if (top)
        {
            scan.Choice.AfterTopScan(rowsRead, exact);
        }
        return (best, bestIndex);
    }

    /// <summary>Asks for the cache lines of D 16-bit halves from <paramref name="halves"/> on, ahead of their use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchHalves(ushort* halves, int dimension)
    {
        if (Sse.IsSupported)
        {
            // Every 64-byte line the D halves touch, the last one included when the row does not start on a line.
            var first = (nuint)halves & ~(nuint)63;
            var last = (nuint)(halves + dimension - 1);
            for (var line = first; line <= last; line += 64)
            {
                Sse.Prefetch0((void*)line);
            }
        }
    }

    /// <summary>Start of range r of n over [0, length), a multiple of 8 (the last range ends at length).</summary>
    private static int RangeStart(int length, int r, int n) => r == n ? length : (int)((long)length * r / n) & ~7;

    /// <summary>What a scan reads and writes (a class, so that the parallel ranges share it).</summary>
    private sealed class Scan(SplitFloatCentroids centroids, LiveClusterTable table, long[] sizes, long parallelScanThreshold, int[] candidates, double[] candidateLower, (double Upper, int Candidates, int RowsRead)[] ranges)
    {
        private readonly float[] _queryInScanOrder = GC.AllocateArray<float>(Math.Max(1, centroids.Dimension), pinned: true);

        private readonly double _relativeError = SplitFloatCentroids.FloatScanRelativeError(centroids.Dimension);
        private readonly double _absoluteError = SplitFloatCentroids.FloatScanAbsoluteError(centroids.Dimension);

        public int Dimension => centroids.Dimension;

        public SplitFloatCentroids Centroids => centroids;

        /// <summary>Whether the next scan reads the rows' upper halves only, from what the last ones cost.</summary>
        public ScanRowChoice Choice { get; } = new();

        /// <summary>The float high row of the cluster being scanned for, in <see cref="SplitFloatCentroids.ToScanOrder"/> (written before each scan).</summary>
        public float* Query => (float*)Unsafe.AsPointer(ref _queryInScanOrder[0]);

        /// <summary>Live values (clusters x D) from which a scan is split over threads.</summary>
        public long ParallelScanThreshold => parallelScanThreshold;

        /// <summary>The live clusters by position.</summary>
        public LiveClusterTable Table => table;

        /// <summary>Candidate clusters, written at the positions of the range that found them.</summary>
        public int[] Candidates => candidates;

        /// <summary>Each candidate's lower bound on its squared Ward distance.</summary>
        public double[] CandidateLower => candidateLower;

        /// <summary>The candidates that can still win, sorted by <see cref="OrderedLower"/> before their exact distances.</summary>
        public int[] OrderedCandidates { get; } = new int[candidates.Length];

        /// <summary>The lower bounds of <see cref="OrderedCandidates"/>.</summary>
        public double[] OrderedLower { get; } = new double[candidates.Length];

        /// <summary>Per range: the smallest upper bound it found, its number of candidates and the rows whose floats it read.</summary>
        public (double Upper, int Candidates, int RowsRead)[] Ranges => ranges;

        /// <summary>How many scans ran and were split.</summary>
        public required ScanCounts Counts { get; init; }

        /// <summary>Rows whose floats the last scan read (past the projected bound): the next scan's expected work.</summary>
        public long RowsRead { get; set; }

        /// <summary>Squared Ward distance 2 n_a n_b / (n_a + n_b) ||c_a - c_b||^2 in double; symmetric bit for bit.</summary>
        public double SquaredWardDistance(int a, int b) => Weight(sizes[a], sizes[b]) * centroids.SquaredDistance(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static double Weight(double na, double nb) => 2.0 * (na * nb / (na + nb));

        /// <summary>
        /// The filter over positions [start, end) (start a multiple of 8): every live cluster whose
        /// exact squared Ward distance to x can be at most min(bound, the smallest upper bound seen)
        /// becomes a candidate, written from position start on. With <paramref name="top"/> it reads
        /// only the upper halves of the rows' bits (<see cref="SplitFloatCentroids.Top"/>), otherwise
        /// the whole float rows. Writes ranges[range].
        /// </summary>
        public void Filter(int x, double bound, bool top, int start, int end, int range)
        {
            if (top)
            {
                Filter<TopHalves>(x, bound, start, end, range);
            }
            else
            {
                Filter<WholeFloats>(x, bound, start, end, range);
            }
        }

        /// <summary>The filter with the row reads of <typeparamref name="TRows"/> (a struct, so each reading is compiled on its own).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Filter<TRows>(int x, double bound, int start, int end, int range)
            where TRows : struct, IScanRows
        {
            var rows = default(TRows);
            var highX = Query;
            var lowNormX = centroids.LowNorm(x);
            double sizeX = sizes[x];
            var dimension = centroids.Dimension;
            var index = table.Index;
            // x's projection, gathered from its column position.
            var positionX = table.PositionOf(x);
            var projectedX = stackalloc float[Math.Max(1, table.Width)];
            for (var p = 0; p < table.Width; p++)
            {
                projectedX[p] = table.Coordinates[(long)p * table.Stride + positionX];
            }
            var errorX = Vector256.Create(table.Error[positionX]);
            var sizeXVector = Vector256.Create((float)sizeX);
            var upper = bound;
            var upperVector = LiveClusterTable.UpperAsFloat(upper);
            var found = start;
            var columns = table.Coordinates;
            var stride = table.Stride;
            var survivors = stackalloc int[ChunkPositions];
            var rowsRead = 0;
            for (var chunk = start; chunk < end; chunk += ChunkPositions)
            {
                // First the projected bound over a chunk, then the float rows of what it kept, each
                // prefetched while the one before it is read (they are scattered through the rows).
                var chunkEnd = Math.Min(end, chunk + ChunkPositions);
                var kept = 0;
                for (var block = chunk; block < chunkEnd; block += 8)
                {
                    var mask = table.PossibleMask(block, columns, stride, projectedX, errorX, sizeXVector, upperVector);
                    if (block + 8 > chunkEnd)
                    {
                        mask &= (1u << (chunkEnd - block)) - 1;
                    }
                    while (mask != 0)
                    {
                        var j = index[block + LiveClusterTable.NextBit(ref mask)];
                        if (j >= 0 && j != x)
                        {
                            survivors[kept++] = j;
                        }
                    }
                }
                rowsRead += kept;
                for (var s = 0; s < Math.Min(kept, PrefetchAhead); s++)
                {
                    rows.Prefetch(centroids, survivors[s]);
                }
                for (var s = 0; s < kept; s++)
                {
                    var j = survivors[s];
                    if (s + PrefetchAhead < kept)
                    {
                        rows.Prefetch(centroids, survivors[s + PrefetchAhead]);
                    }
                    var weight = Weight(sizeX, sizes[j]);
                    var squared = rows.SquaredDistance(highX, centroids, j);
                    double lower, upperJ;
                    if (float.IsFinite(squared))
                    {
                        // ||c_x - c_j|| is within ||low_x|| + ||c_j - r_j|| of ||high_x - r_j||, r_j the row as read.
                        var lowNorms = lowNormX + rows.Slack(centroids, j);
                        var below = Math.Sqrt(Math.Max(0, squared * (1 - _relativeError) - _absoluteError)) - lowNorms;
                        var above = Math.Sqrt(squared * (1 + _relativeError) + _absoluteError) + lowNorms;
                        lower = below > 0 ? weight * below * below * (1 - 1e-9) : 0;
                        upperJ = weight * above * above * (1 + 1e-9);
                    }
                    else
                    {
                        // The float square overflowed; only the double distance can tell.
                        lower = 0;
                        upperJ = double.PositiveInfinity;
                    }
                    if (lower <= upper)
                    {
                        candidates[found] = j;
                        candidateLower[found] = lower;
                        found++;
                        if (upperJ < upper)
                        {
                            upper = upperJ;
                            upperVector = LiveClusterTable.UpperAsFloat(upper);
                        }
                    }
                }
            }
            ranges[range] = (upper, found - start, rowsRead);
        }
    }
}

/// <summary>How a scan reads a live cluster's row: its distance to the query, how far that row may be from the centroid, its prefetch.</summary>
internal unsafe interface IScanRows
{
    /// <summary>||query - row||^2 in float, the query in <see cref="SplitFloatCentroids.ToScanOrder"/>.</summary>
    float SquaredDistance(float* query, SplitFloatCentroids centroids, int cluster);

    /// <summary>An upper bound on ||centroid - row as read||.</summary>
    double Slack(SplitFloatCentroids centroids, int cluster);

    /// <summary>Asks for the bytes <see cref="SquaredDistance"/> will read.</summary>
    void Prefetch(SplitFloatCentroids centroids, int cluster);
}

/// <summary>The upper halves only: 2 bytes a value, the truncation in the slack.</summary>
internal readonly unsafe struct TopHalves : IScanRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float SquaredDistance(float* query, SplitFloatCentroids centroids, int cluster) =>
        SplitFloatCentroids.TopSquaredDistance(query, centroids.Top(cluster), centroids.Dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Slack(SplitFloatCentroids centroids, int cluster) => centroids.TopSlack(cluster);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(SplitFloatCentroids centroids, int cluster) => CentroidWardChain.PrefetchHalves(centroids.Top(cluster), centroids.Dimension);
}

/// <summary>The whole float rows, rebuilt from both halves: 4 bytes a value, only the low row in the slack.</summary>
internal readonly unsafe struct WholeFloats : IScanRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float SquaredDistance(float* query, SplitFloatCentroids centroids, int cluster) =>
        SplitFloatCentroids.FloatSquaredDistance(query, centroids.Top(cluster), centroids.Bottom(cluster), centroids.Dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Slack(SplitFloatCentroids centroids, int cluster) => centroids.LowNorm(cluster);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(SplitFloatCentroids centroids, int cluster)
    {
        CentroidWardChain.PrefetchHalves(centroids.Top(cluster), centroids.Dimension);
        CentroidWardChain.PrefetchHalves(centroids.Bottom(cluster), centroids.Dimension);
    }
}

/// <summary>
/// Chooses per scan between the upper halves and the whole rows. The upper halves halve the bytes
/// a scan reads but are off by up to 1/128 of each value, so where the values are large next to
/// the distances between centroids (data far from the origin) nearly every row becomes a
/// candidate and its exact distance costs ten times a row read. A scan of upper halves whose exact
/// distances exceed <see cref="AllowedExact"/> sends the next scans to the whole rows; the upper
/// halves are tried again after 64 scans, then after twice as many each time they lose again.
/// The choice changes what the scans cost, never which cluster they return.
/// </summary>
internal sealed class ScanRowChoice
{
    private const int FirstWait = 64;
    private const int LongestWait = 4096;

    private int _wholeScansLeft;
    private int _wait = FirstWait;

    /// <summary>Whether the next scan reads only the upper halves.</summary>
    public bool ReadTopHalves()
    {
        if (_wholeScansLeft > 0)
        {
            _wholeScansLeft--;
            return false;
        }
        return true;
    }

    /// <summary>Exact distances a scan of upper halves that read this many rows may take and keep the choice: 16, plus 1 in 16 rows.</summary>
    public static long AllowedExact(long rowsRead) => 16 + rowsRead / 16;

    /// <summary>Records what a scan of upper halves cost.</summary>
    public void AfterTopScan(long rowsRead, long exactDistances)
    {
        if (exactDistances <= AllowedExact(rowsRead))
        {
            _wait = FirstWait;
            return;
        }
        _wholeScansLeft = _wait;
        _wait = Math.Min(LongestWait, 2 * _wait);
    }
}

/// <summary>How many nearest-neighbour scans a <see cref="CentroidWardChain"/> run made, and how many it split over threads.</summary>
internal sealed class ScanCounts
{
    public long Scans { get; set; }

    public long SplitScans { get; set; }

    /// <summary>Scans that read only the upper halves of the rows (<see cref="ScanRowChoice"/>).</summary>
    public long TopScans { get; set; }

    /// <summary>Rows whose distance the filters computed (past the projected bound).</summary>
    public long RowsRead { get; set; }

    /// <summary>Candidates whose exact distance was computed.</summary>
    public long ExactDistances { get; set; }
}
