using AnomalyClustering.Core.Scoring;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The first stage of two-stage Ward: seeded k-means micro-clusters. Seeds by k-means++ (D^2
/// sampling) on a seeded random sample of at most 16 C points, then runs a fixed number of Lloyd
/// passes over all points. O(passes N C D) time (the assignment step, <see cref="ICentreAssignment"/>: the SIMD kernel
/// over at most <c>threads</c> threads, or a graph on a GPU), O(C D + N) extra memory.
/// </summary>
internal static unsafe class MicroClusters
{
    /// <summary>Lloyd passes after seeding (each one assignment and one centroid update).</summary>
    public const int LloydPasses = 3;

    /// <summary>
    /// Splits <paramref name="count"/> points into at most <paramref name="clusterCount"/> non-empty
    /// micro-clusters. Returns their centroids (double, the exact means of their members, row-major),
    /// member counts, and the micro-cluster of every point.
    /// </summary>
    public static (double[] Centroids, long[] Counts, int[] ClusterOfPoint) Run(
        ReadOnlySpan<float> points, int count, int dimension, int clusterCount, int seed, int threads, ICentreAssignment assignmentStep)
    {
        clusterCount = Math.Min(clusterCount, count);
        var centres = new float[clusterCount * dimension];
        var assignment = new int[count];
        var sums = new double[clusterCount * dimension];
        var counts = new long[clusterCount];
        fixed (float* p = points)
        {
            var data = new Points(p, count, dimension);
            Seed(data, centres, clusterCount, seed, threads);
            for (var pass = 0; pass < LloydPasses; pass++)
            {
                assignmentStep.Assign(points, count, dimension, centres, clusterCount, assignment);
                Update(data, assignment, centres, sums, counts, clusterCount);
            }
        }

        // Drop empty micro-clusters and renumber the rest in index order.
        var newIndex = new int[clusterCount];
        var kept = 0;
        for (var c = 0; c < clusterCount; c++)
        {
            newIndex[c] = counts[c] > 0 ? kept++ : -1;
        }
        var centroids = new double[kept * dimension];
        var keptCounts = new long[kept];
        for (var c = 0; c < clusterCount; c++)
        {
            if (newIndex[c] < 0)
            {
                continue;
            }
            keptCounts[newIndex[c]] = counts[c];
            for (var k = 0; k < dimension; k++)
            {
                centroids[newIndex[c] * dimension + k] = sums[c * dimension + k] / counts[c];
            }
        }
        for (var i = 0; i < count; i++)
        {
            assignment[i] = newIndex[assignment[i]];
        }
        return (centroids, keptCounts, assignment);
    }

    /// <summary>k-means++ on a seeded random sample: each next centre drawn with probability proportional to D^2. O(S C D).</summary>
    private static void Seed(Points data, float[] centres, int clusterCount, int seed, int threads)
    {
        var sampleSize = (int)Math.Min(data.Count, 16L * clusterCount);
        // The project's seeded sampler and generator (SplitMix64): the same micro-clusters on every machine and .NET version.
        var sample = ReferenceSample.Draw(data.Count, sampleSize - 1, unchecked((ulong)seed)).Pool.ToArray();
        var random = new SplitMix64(unchecked((ulong)seed) ^ 0x6B6D65616E73UL);
        var nearest = new double[sampleSize];
        Array.Fill(nearest, double.PositiveInfinity);
        var dimension = data.Dimension;
        var chosen = sample[0];
        for (var c = 0; c < clusterCount; c++)
        {
            data.Row(chosen).CopyTo(centres.AsSpan(c * dimension, dimension));
            if (c == clusterCount - 1)
            {
                break;
            }
            var centre = centres.AsMemory(c * dimension, dimension);
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var start = (int)((long)sampleSize * t / threads);
                var end = (int)((long)sampleSize * (t + 1) / threads);
                var centreSpan = centre.Span;
                for (var s = start; s < end; s++)
                {
                    var d2 = SquaredDistance(data.Row(sample[s]), centreSpan);
                    if (d2 < nearest[s])
                    {
                        nearest[s] = d2;
                    }
                }
            });
            var total = 0.0;
            foreach (var d2 in nearest)
            {
                total += d2;
            }
            if (total <= 0)
            {
                // Every sample point coincides with a centre: any further centre would duplicate one.
                chosen = sample[(int)random.NextBelow((ulong)sampleSize)];
                continue;
            }
            var target = (random.Next() >> 11) * (1.0 / (1UL << 53)) * total;
            var pick = sampleSize - 1;
            for (var s = 0; s < sampleSize; s++)
            {
                target -= nearest[s];
                if (target < 0)
                {
                    pick = s;
                    break;
                }
            }
            chosen = sample[pick];
        }
    }

    /// <summary>Centres become their members' means (sums in double); a centre that lost every member stays where it was. O(N D).</summary>
    private static void Update(Points data, int[] assignment, float[] centres, double[] sums, long[] counts, int clusterCount)
    {
        var dimension = data.Dimension;
        Array.Clear(sums);
        Array.Clear(counts);
        for (var i = 0; i < data.Count; i++)
        {
            var c = assignment[i];
            counts[c]++;
            var row = data.Row(i);
            var sum = sums.AsSpan(c * dimension, dimension);
            for (var k = 0; k < dimension; k++)
            {
                sum[k] += row[k];
            }
        }
        for (var c = 0; c < clusterCount; c++)
        {
            if (counts[c] == 0)
            {
                continue;
            }
            for (var k = 0; k < dimension; k++)
            {
                centres[c * dimension + k] = (float)(sums[c * dimension + k] / counts[c]);
            }
        }
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Distance(a, b) is var d ? (double)d * d : 0;

    /// <summary>The caller's points, pinned for the duration of <see cref="Run"/> (a struct so parallel lambdas can capture it).</summary>
    internal readonly struct Points(float* pointer, int count, int dimension)
    {
        public int Count => count;

        public int Dimension => dimension;

        public ReadOnlySpan<float> Row(int i) => new(pointer + (long)i * dimension, dimension);
    }
}
