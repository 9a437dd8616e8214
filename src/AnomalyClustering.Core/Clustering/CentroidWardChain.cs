using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Exact Ward linkage without a distance matrix: SciPy's nearest-neighbour chain run on cluster
/// centroids and sizes, with Ward's distance in centroid form,
/// d(A,B) = sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||, which is the value SciPy's Lance-Williams
/// update produces (up to rounding). O(N D) memory (the centroids in double, 8 N D bytes, plus
/// O(N)), O(N^2 D) time: every chain step (about 2-3 N of them) scans the live centroids once.
/// </summary>
/// <remarks>
/// The chain, the tie-breaking (smallest distance, ties to the lowest index, the previous chain
/// element kept unless something is strictly closer) and the slot a merged cluster lives in (the
/// larger index) are SciPy's <c>_hierarchy.nn_chain</c>, so the merges and their order are
/// SciPy's wherever rounding does not turn a near-tie around. Each scan is a SIMD pass over the
/// live centroids split into at most <c>maxDegreeOfParallelism</c> contiguous ranges; every
/// pair's distance is computed the same way whatever the split, so the result does not depend on
/// the thread count. Comparisons use the squared distance (monotone, no square root per pair).
/// </remarks>
internal static unsafe class CentroidWardChain
{
    /// <summary>Below this many live values (clusters x D) a scan runs on one thread: a fork costs more than it saves.</summary>
    private const long ParallelScanThreshold = 1 << 16;

    /// <summary>
    /// Links <paramref name="count"/> clusters whose centroids are <paramref name="centroids"/>
    /// (row-major, overwritten: merged centroids are written into the larger index's row) and
    /// whose initial sizes are <paramref name="weights"/> (1 for points; member counts for
    /// micro-clusters). Returns the merges in the order found.
    /// </summary>
    public static UnsortedMerges Run(double[] centroids, long[] weights, int count, int dimension, int maxDegreeOfParallelism)
    {
        var merges = new UnsortedMerges(count);
        var size = (long[])weights.Clone();
        // The live clusters in ascending order; a cluster lives at the index of its larger member.
        var alive = new int[count];
        for (var i = 0; i < count; i++)
        {
            alive[i] = i;
        }
        var aliveCount = count;
        var chain = new int[count];
        var chainLength = 0;
        var threads = Math.Max(1, maxDegreeOfParallelism);
        var partial = new (double Value, int Index)[threads];

        fixed (double* c = centroids)
        fixed (long* sizes = size)
        fixed (int* live = alive)
        {
            var scan = new Scan(c, sizes, live, dimension);
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
                    (nearest, y) = NearestNeighbour(scan, x, aliveCount, threads, partial);
                    if (y < 0)
                    {
                        throw new InvalidOperationException($"cluster {x} has no neighbour closer than infinity; the centroids overflowed.");
                    }
                    if (chainLength > 1)
                    {
                        // SciPy starts the scan at the previous element's distance and only a
                        // strictly smaller one displaces it, so the chain never cycles on ties.
                        var previous = chain[chainLength - 2];
                        var toPrevious = scan.SquaredWardDistance(x, previous);
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
                merges.Add(x, y, Math.Sqrt(nearest));
                MergeInto(c + (long)x * dimension, c + (long)y * dimension, sizes[x], sizes[y], dimension);
                sizes[y] += sizes[x];
                sizes[x] = 0;
                var removeAt = Array.BinarySearch(alive, 0, aliveCount, x);
                Array.Copy(alive, removeAt + 1, alive, removeAt, aliveCount - removeAt - 1);
                aliveCount--;
            }
        }
        return merges;
    }

    /// <summary>c_y = (n_x c_x + n_y c_y) / (n_x + n_y), written over c_y. O(D).</summary>
    private static void MergeInto(double* cx, double* cy, long sizeX, long sizeY, int dimension)
    {
        double nx = sizeX;
        double ny = sizeY;
        var total = nx + ny;
        for (var k = 0; k < dimension; k++)
        {
            cy[k] = (nx * cx[k] + ny * cy[k]) / total;
        }
    }

    /// <summary>
    /// The live cluster nearest to x by Ward's distance (squared): the smallest value, ties to the
    /// lowest index, x itself skipped. Index -1 when every distance is infinite. O(N D).
    /// </summary>
    private static (double Value, int Index) NearestNeighbour(Scan scan, int x, int aliveCount, int threads, (double Value, int Index)[] partial)
    {
        var ranges = (long)aliveCount * scan.Dimension < ParallelScanThreshold ? 1 : threads;
        if (ranges == 1)
        {
            return scan.Minimum(x, 0, aliveCount);
        }
        // Contiguous ranges in index order, so combining (value, lowest index) equals one sequential scan.
        Parallel.For(0, ranges, new ParallelOptions { MaxDegreeOfParallelism = ranges }, r =>
        {
            var start = (int)((long)aliveCount * r / ranges);
            var end = (int)((long)aliveCount * (r + 1) / ranges);
            partial[r] = scan.Minimum(x, start, end);
        });
        var best = double.PositiveInfinity;
        var bestIndex = -1;
        for (var r = 0; r < ranges; r++)
        {
            if (partial[r].Index >= 0 && (partial[r].Value < best || (partial[r].Value == best && partial[r].Index < bestIndex)))
            {
                (best, bestIndex) = partial[r];
            }
        }
        return (best, bestIndex);
    }

    /// <summary>Pointers into the chain's state that a scan reads (a struct so lambdas can capture it).</summary>
    private readonly struct Scan(double* centroids, long* sizes, int* live, int dimension)
    {
        public int Dimension => dimension;

        /// <summary>Squared Ward distance 2 n_a n_b / (n_a + n_b) ||c_a - c_b||^2; symmetric bit for bit.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double SquaredWardDistance(int a, int b)
        {
            double na = sizes[a];
            double nb = sizes[b];
            return 2.0 * (na * nb / (na + nb)) * SquaredDistance(centroids + (long)a * dimension, centroids + (long)b * dimension, dimension);
        }

        /// <summary>Smallest squared Ward distance from x to the live clusters at positions [start, end), lowest index on ties.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public (double Value, int Index) Minimum(int x, int start, int end)
        {
            var best = double.PositiveInfinity;
            var bestIndex = -1;
            for (var t = start; t < end; t++)
            {
                var j = live[t];
                if (j == x)
                {
                    continue;
                }
                var value = SquaredWardDistance(x, j);
                if (value < best)
                {
                    best = value;
                    bestIndex = j;
                }
            }
            return (best, bestIndex);
        }
    }

    /// <summary>||a - b||^2 in double with 256-bit vectors; the same operations in the same order for (a, b) and (b, a).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double SquaredDistance(double* a, double* b, int dimension)
    {
        var k = 0;
        var sum = 0.0;
        if (dimension >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k + 8 <= dimension; k += 8)
            {
                var t0 = Vector256.Load(a + k) - Vector256.Load(b + k);
                var t1 = Vector256.Load(a + k + 4) - Vector256.Load(b + k + 4);
                acc0 += t0 * t0;
                acc1 += t1 * t1;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; k < dimension; k++)
        {
            var t = a[k] - b[k];
            sum += t * t;
        }
        return sum;
    }
}
