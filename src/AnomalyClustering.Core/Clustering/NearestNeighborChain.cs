using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Ward, average and complete linkage by the nearest-neighbour chain algorithm, a step-for-step
/// replica of SciPy's <c>_hierarchy.nn_chain</c> (same chain, same tie-breaking, same update
/// arithmetic), so the merges come out identical. O(N^2) time, O(N) memory besides the condensed
/// matrix, which it overwrites.
/// </summary>
/// <remarks>
/// Speed comes from memory traffic, not arithmetic: the half of a row left of the diagonal is a
/// column of the condensed matrix, one cache line (and often one TLB miss) per element.
/// So (1) each cluster's nearest neighbour is cached and kept exact by the update loop, which
/// visits every live cluster anyway and hands a new cluster its nearest neighbour for free; the
/// chain scans a row only when that cache was invalidated (about 2.9 scans per merge instead of
/// 3.05 on random data); (2) the contiguous half of a row (j &gt; x) is a SIMD minimum over
/// row + penalty, the penalty being +infinity for dead clusters, while the strided half visits
/// live clusters only, and nothing is written to the matrix but the new cluster's distances;
/// (3) the matrix is put on 2 MB pages (<see cref="LargePages"/>).
/// Every "nearest" is SciPy's: the smallest distance, ties to the lowest index, and the previous
/// chain element preferred when it ties.
/// </remarks>
internal static unsafe class NearestNeighborChain
{
    /// <summary>Runs the chain on <paramref name="distances"/> (destroyed) and returns the merges in the order found.</summary>
    public static UnsortedMerges Run(double[] distances, int count, LinkageMethod method) => method switch
    {
        LinkageMethod.Ward => Run<WardUpdate>(distances, count),
        LinkageMethod.Average => Run<AverageUpdate>(distances, count),
        LinkageMethod.Complete => Run<CompleteUpdate>(distances, count),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "the NN-chain handles ward, average and complete"),
    };

    private static UnsortedMerges Run<TUpdate>(double[] distances, int count)
        where TUpdate : struct, IDistanceUpdate
    {
        var merges = new UnsortedMerges(count);
        var rowBases = CondensedDistanceMatrix.RowBases(count);
        var size = new int[count];
        Array.Fill(size, 1);
        // The live clusters in ascending order; a cluster lives at the index of its larger member.
        var alive = new int[count];
        for (var i = 0; i < count; i++)
        {
            alive[i] = i;
        }
        var aliveCount = count;
        var chain = new int[count];
        var chainLength = 0;
        // Each cluster's nearest live neighbour (-1: unknown) and its distance, kept exact through
        // merges so that a chain step whose neighbour is still known needs no scan.
        var neighbour = new int[count];
        Array.Fill(neighbour, -1);
        var neighbourDistance = new double[count];
        // 0 for a live cluster, +infinity for a dead one: added to a row, it hides dead columns
        // without writing into the matrix (a write would dirty one more cache line per update).
        var deadPenalty = new double[count];

        fixed (double* d = distances)
        fixed (long* bases = rowBases)
        fixed (int* live = alive)
        fixed (int* nearestOf = neighbour)
        fixed (double* nearestDistanceOf = neighbourDistance)
        fixed (double* penalty = deadPenalty)
        {
            for (var k = 0; k < count - 1; k++)
            {
                if (chainLength == 0)
                {
                    chain[0] = live[0];
                    chainLength = 1;
                }

                int x, y;
                double nearest;
                while (true)
                {
                    x = chain[chainLength - 1];
                    if (nearestOf[x] < 0)
                    {
                        var xPosition = Array.BinarySearch(alive, 0, aliveCount, x);
                        (nearestDistanceOf[x], nearestOf[x]) = NearestNeighbour(d, bases, live, penalty, xPosition, x, count);
                        if (nearestOf[x] < 0)
                        {
                            throw new InvalidOperationException($"cluster {x} has no neighbour closer than infinity; the distances overflowed.");
                        }
                    }
                    nearest = nearestDistanceOf[x];
                    y = nearestOf[x];
                    if (chainLength > 1)
                    {
                        // SciPy starts the scan at the previous element's distance and only a strictly
                        // smaller one displaces it, so the chain never cycles on ties.
                        var previous = chain[chainLength - 2];
                        var toPrevious = x < previous ? d[bases[x] + previous] : d[bases[previous] + x];
                        if (!(nearest < toPrevious))
                        {
                            nearest = toPrevious;
                            y = previous;
                            break;
                        }
                    }
                    chain[chainLength++] = y;
                }
                chainLength -= 2;

                if (x > y)
                {
                    (x, y) = (y, x);
                }
                var sizeX = size[x];
                var sizeY = size[y];
                merges.Add(x, y, nearest);
                size[x] = 0;
                size[y] = sizeX + sizeY;
                penalty[x] = double.PositiveInfinity;

                var removeAt = Array.BinarySearch(alive, 0, aliveCount, x);
                Array.Copy(alive, removeAt + 1, alive, removeAt, aliveCount - removeAt - 1);
                aliveCount--;
                var yPosition = Array.BinarySearch(alive, 0, aliveCount, y);

                // Distances from every live cluster i to the new cluster (stored at y). Pairs are
                // (min, max) in the condensed layout, so the three ranges of i read different halves.
                // Walking i in ascending order also yields the new cluster's nearest neighbour.
                var rowX = d + bases[x];
                var rowY = d + bases[y];
                var newNearest = double.PositiveInfinity;
                var newNearestIndex = -1;
                var t = 0;
                for (; t < removeAt; t++)
                {
                    var i = live[t];
                    var rowI = d + bases[i];
                    var updated = TUpdate.Apply(rowI[x], rowI[y], nearest, sizeX, sizeY, size[i]);
                    rowI[y] = updated;
                    Refresh(i, updated, x, y, nearestOf, nearestDistanceOf, ref newNearest, ref newNearestIndex);
                }
                for (; t < yPosition; t++)
                {
                    var i = live[t];
                    var rowI = d + bases[i];
                    var updated = TUpdate.Apply(rowX[i], rowI[y], nearest, sizeX, sizeY, size[i]);
                    rowI[y] = updated;
                    Refresh(i, updated, x, y, nearestOf, nearestDistanceOf, ref newNearest, ref newNearestIndex);
                }
                for (t = yPosition + 1; t < aliveCount; t++)
                {
                    var i = live[t];
                    var updated = TUpdate.Apply(rowX[i], rowY[i], nearest, sizeX, sizeY, size[i]);
                    rowY[i] = updated;
                    Refresh(i, updated, x, y, nearestOf, nearestDistanceOf, ref newNearest, ref newNearestIndex);
                }
                nearestOf[x] = -1;
                nearestOf[y] = newNearestIndex;
                nearestDistanceOf[y] = newNearest;
            }
        }
        return merges;
    }

    /// <summary>
    /// Keeps cluster i's cached nearest neighbour exact after x and y merged into y with distance
    /// <paramref name="updated"/> to i (ties to the lower index, like a full scan), and tracks the
    /// new cluster's own nearest neighbour over ascending i.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Refresh(int i, double updated, int x, int y, int* nearestOf, double* nearestDistanceOf, ref double newNearest, ref int newNearestIndex)
    {
        if (updated < newNearest)
        {
            newNearest = updated;
            newNearestIndex = i;
        }
        var cached = nearestOf[i];
        if (cached < 0)
        {
            return;
        }
        var cachedDistance = nearestDistanceOf[i];
        if (updated < cachedDistance)
        {
            // Strictly closer than the old minimum: the new cluster is the unique nearest.
            nearestOf[i] = y;
            nearestDistanceOf[i] = updated;
        }
        else if (cached == x)
        {
            // The nearest died; another cluster at the same distance may now be the first.
            nearestOf[i] = -1;
        }
        else if (cached == y)
        {
            // Same index; still nearest only if its distance did not grow.
            if (updated != cachedDistance)
            {
                nearestOf[i] = -1;
            }
        }
        else if (updated == cachedDistance && y < cached)
        {
            nearestOf[i] = y;
        }
    }

    /// <summary>
    /// The live cluster nearest to x: the smallest distance, ties to the lowest index (SciPy's scan
    /// order with a strict comparison). Returns index -1 if every distance is infinite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Distance, int Index) NearestNeighbour(double* d, long* bases, int* live, double* penalty, int xPosition, int x, int count)
    {
        var best = double.PositiveInfinity;
        var bestIndex = -1;
        // Column x above the diagonal: one element per row, live rows only.
        for (var t = 0; t < xPosition; t++)
        {
            var i = live[t];
            var v = d[bases[i] + x];
            if (v < best)
            {
                best = v;
                bestIndex = i;
            }
        }
        // Row x right of the diagonal: contiguous, dead columns pushed to +infinity by the penalty.
        var (rowBest, rowIndex) = RowMinimum(d + bases[x], penalty, x + 1, count);
        if (rowBest < best)
        {
            return (rowBest, rowIndex);
        }
        return (best, bestIndex);
    }

    /// <summary>Smallest row[j] + penalty[j] for j in [start, end) and its lowest index (-1 if none is below infinity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (double Value, int Index) RowMinimum(double* row, double* penalty, int start, int end)
    {
        var j = start;
        var best = double.PositiveInfinity;
        var bestIndex = -1;
        if (end - j >= 2 * Vector256<double>.Count)
        {
            // Per lane: the first index holding that lane's minimum (strict <), then the lowest
            // index among the lanes that hold the overall minimum.
            var min0 = Vector256.Create(double.PositiveInfinity);
            var min1 = min0;
            var at0 = Vector256.Create(-1.0);
            var at1 = at0;
            var index0 = Vector256.Create((double)j) + Vector256.Create(0.0, 1.0, 2.0, 3.0);
            var index1 = index0 + Vector256.Create(4.0);
            var step = Vector256.Create(8.0);
            for (; j + 2 * Vector256<double>.Count <= end; j += 2 * Vector256<double>.Count)
            {
                var v0 = Vector256.Load(row + j) + Vector256.Load(penalty + j);
                var v1 = Vector256.Load(row + j + 4) + Vector256.Load(penalty + j + 4);
                var less0 = Vector256.LessThan(v0, min0);
                var less1 = Vector256.LessThan(v1, min1);
                min0 = Vector256.ConditionalSelect(less0, v0, min0);
                min1 = Vector256.ConditionalSelect(less1, v1, min1);
                at0 = Vector256.ConditionalSelect(less0, index0, at0);
                at1 = Vector256.ConditionalSelect(less1, index1, at1);
                index0 += step;
                index1 += step;
            }
            for (var lane = 0; lane < Vector256<double>.Count; lane++)
            {
                Consider(min0.GetElement(lane), (int)at0.GetElement(lane), ref best, ref bestIndex);
                Consider(min1.GetElement(lane), (int)at1.GetElement(lane), ref best, ref bestIndex);
            }
        }
        for (; j < end; j++)
        {
            // The tail comes after every vector lane, so it only wins when strictly smaller.
            var v = row[j] + penalty[j];
            if (v < best)
            {
                best = v;
                bestIndex = j;
            }
        }
        return (best, bestIndex);
    }

    private static void Consider(double value, int index, ref double best, ref int bestIndex)
    {
        if (index < 0)
        {
            return;
        }
        if (value < best || (value == best && index < bestIndex))
        {
            best = value;
            bestIndex = index;
        }
    }

    /// <summary>SciPy's Lance-Williams update for one method, with the same operations in the same order.</summary>
    private interface IDistanceUpdate
    {
        /// <summary>Distance from cluster i to x∪y given d(x,i), d(y,i), d(x,y) and the sizes.</summary>
        static abstract double Apply(double dxi, double dyi, double dxy, int sizeX, int sizeY, int sizeI);
    }

    private readonly struct WardUpdate : IDistanceUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Apply(double dxi, double dyi, double dxy, int sizeX, int sizeY, int sizeI)
        {
            var t = 1.0 / (sizeX + sizeY + sizeI);
            return Math.Sqrt((sizeI + sizeX) * t * dxi * dxi + (sizeI + sizeY) * t * dyi * dyi - sizeI * t * dxy * dxy);
        }
    }

    private readonly struct AverageUpdate : IDistanceUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Apply(double dxi, double dyi, double dxy, int sizeX, int sizeY, int sizeI) =>
            (sizeX * dxi + sizeY * dyi) / (sizeX + sizeY);
    }

    private readonly struct CompleteUpdate : IDistanceUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Apply(double dxi, double dyi, double dxy, int sizeX, int sizeY, int sizeI) =>
            dyi > dxi ? dyi : dxi;
    }
}
