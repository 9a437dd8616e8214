using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// k-means assignment on the CPU: a tiled float dot-product kernel, ||c||^2 - 2 x.c, four points against each centre
/// chunk at once (the centre is loaded once for four fused multiply-adds), over at most a given number of threads.
/// O(N C D) time, O(C) extra memory.
/// </summary>
/// <param name="threads">The most threads one call uses (at least 1): the caller's parallelism budget.</param>
public sealed unsafe class SimdCentreAssignment(int threads) : ICentreAssignment
{
    /// <summary>Points per parallel work item.</summary>
    private const int Block = 256;

    private readonly int _threads = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads), threads, "At least one thread.");

    /// <inheritdoc />
    public string Description => $"SIMD kernel, {_threads} {(_threads == 1 ? "thread" : "threads")}";

    /// <inheritdoc />
    public void Assign(ReadOnlySpan<float> points, int count, int dimension, ReadOnlySpan<float> centres, int centreCount, Span<int> assignment)
    {
        CentreAssignmentArguments.Check(points, count, dimension, centres, centreCount, assignment);
        var norms = new float[centreCount];
        for (var c = 0; c < centreCount; c++)
        {
            var row = centres.Slice(c * dimension, dimension);
            norms[c] = TensorPrimitives.Dot(row, row);
        }
        fixed (float* p = points)
        fixed (float* centre = centres)
        fixed (int* result = assignment)
        {
            var job = new Job(p, centre, result, norms, count, dimension, centreCount);
            var blocks = (count + Block - 1) / Block;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, block => job.Run(block));
        }
    }

    /// <summary>One call's pinned arrays (a struct so that the parallel lambda can capture them).</summary>
    private readonly struct Job(float* points, float* centres, int* assignment, float[] norms, int count, int dimension, int centreCount)
    {
        public void Run(int block)
        {
            var start = block * Block;
            var end = Math.Min(count, start + Block);
            var i = start;
            for (; i + 4 <= end; i += 4)
            {
                AssignFour(i);
            }
            for (; i < end; i++)
            {
                var best = float.PositiveInfinity;
                var bestIndex = 0;
                var row = new ReadOnlySpan<float>(points + (long)i * dimension, dimension);
                for (var c = 0; c < centreCount; c++)
                {
                    var score = norms[c] - 2 * TensorPrimitives.Dot(row, new ReadOnlySpan<float>(centres + (long)c * dimension, dimension));
                    if (score < best)
                    {
                        best = score;
                        bestIndex = c;
                    }
                }
                assignment[i] = bestIndex;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AssignFour(int first)
        {
            var p0 = points + (long)first * dimension;
            var p1 = p0 + dimension;
            var p2 = p1 + dimension;
            var p3 = p2 + dimension;
            var best0 = float.PositiveInfinity;
            var best1 = float.PositiveInfinity;
            var best2 = float.PositiveInfinity;
            var best3 = float.PositiveInfinity;
            int at0 = 0, at1 = 0, at2 = 0, at3 = 0;
            var vectorEnd = dimension - dimension % Vector256<float>.Count;
            for (var c = 0; c < centreCount; c++)
            {
                var centre = centres + (long)c * dimension;
                var a0 = Vector256<float>.Zero;
                var a1 = Vector256<float>.Zero;
                var a2 = Vector256<float>.Zero;
                var a3 = Vector256<float>.Zero;
                var k = 0;
                for (; k < vectorEnd; k += Vector256<float>.Count)
                {
                    var v = Vector256.Load(centre + k);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(p0 + k), v, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(p1 + k), v, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(p2 + k), v, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(p3 + k), v, a3);
                }
                float d0 = Vector256.Sum(a0), d1 = Vector256.Sum(a1), d2 = Vector256.Sum(a2), d3 = Vector256.Sum(a3);
                for (; k < dimension; k++)
                {
                    d0 += p0[k] * centre[k];
                    d1 += p1[k] * centre[k];
                    d2 += p2[k] * centre[k];
                    d3 += p3[k] * centre[k];
                }
                var norm = norms[c];
                Keep(norm - 2 * d0, c, ref best0, ref at0);
                Keep(norm - 2 * d1, c, ref best1, ref at1);
                Keep(norm - 2 * d2, c, ref best2, ref at2);
                Keep(norm - 2 * d3, c, ref best3, ref at3);
            }
            assignment[first] = at0;
            assignment[first + 1] = at1;
            assignment[first + 2] = at2;
            assignment[first + 3] = at3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Keep(float score, int centre, ref float best, ref int bestIndex)
        {
            if (score < best)
            {
                best = score;
                bestIndex = centre;
            }
        }
    }
}
