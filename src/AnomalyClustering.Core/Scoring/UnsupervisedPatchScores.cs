using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// Unsupervised patch scores (METHOD section 2): s_ik = mean over images j != i of min_l ||z_ik - z_jl||_2.
/// A defect patch is far from most other images; a normal patch has a close match in almost every one.
/// </summary>
/// <remarks>
/// Scores are double: distances are recomputed exactly in double precision from the float32 patches,
/// and the mean is summed in ascending j, so the softmax that follows sees no float32 rounding.
/// All functions are deterministic and independent of the degree of parallelism.
/// </remarks>
public static class UnsupervisedPatchScores
{
    /// <summary>
    /// The exact scores of every image. Each unordered pair of images is multiplied once and both
    /// directions' minima are read from the same product, so the cost is N(N-1)/2 x 2 M^2 T flops
    /// (about 2.5e13 at N = 200, M = 784, T = 1024), on all processors (whole pairs per processor).
    /// Memory O(N M + P M T) for P processors.
    /// Throws for N &lt; 2, mixed dimensions or non-finite values.
    /// </summary>
    /// <returns>scores[i][k] for image i and patch k.</returns>
    public static double[][] Exact(IReadOnlyList<PatchBag> bags, int maxDegreeOfParallelism = -1)
    {
        CheckBags(bags);
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        var count = bags.Count;
        var sums = new double[count][];
        for (var i = 0; i < count; i++)
        {
            sums[i] = new double[bags[i].PatchCount];
        }
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        // Pairs in lexicographic order (i < j): every image receives its terms in ascending partner order
        // (first as the reference j of earlier i, then as the query i), the same order as the per-image path.
        for (var i = 0; i < count - 1; i++)
        {
            runner.SetQuery(bags[i]);
            for (var first = i + 1; first < count; first += NearestPatchRunner.Batch)
            {
                var batch = Math.Min(NearestPatchRunner.Batch, count - first);
                runner.NearestToEach(bags, first, batch, columns: true);
                for (var c = 0; c < batch; c++)
                {
                    Add(sums[i], runner.RowResult(c));
                    Add(sums[first + c], runner.ColumnResult(c));
                }
            }
        }
        foreach (var sum in sums)
        {
            Divide(sum, count - 1);
        }
        return sums;
    }

    /// <summary>
    /// The reference-sampled estimate (METHOD section 7): image i averages over the R references chosen
    /// by <see cref="ReferenceSample.Draw"/>(N, R, seed). Unbiased; R = 0 or R &gt;= N-1 gives the exact
    /// scores (computed by <see cref="Exact"/>). O(N R M^2 T) flops. Throws for N &lt; 2 or R &lt; 0.
    /// </summary>
    public static double[][] Sampled(IReadOnlyList<PatchBag> bags, int referenceCount, ulong seed, int maxDegreeOfParallelism = -1)
    {
        CheckBags(bags);
        var sample = ReferenceSample.Draw(bags.Count, referenceCount, seed);
        return sample.IsExact ? Exact(bags, maxDegreeOfParallelism) : FromSample(bags, sample, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Scores of every image against the references a <see cref="ReferenceSample"/> assigns it, one image
    /// at a time (what a distributed worker does for its images). O(N R M^2 T) flops.
    /// </summary>
    public static double[][] FromSample(IReadOnlyList<PatchBag> bags, ReferenceSample sample, int maxDegreeOfParallelism = -1)
    {
        CheckBags(bags);
        ArgumentNullException.ThrowIfNull(sample);
        ScoringInput.CheckParallelism(maxDegreeOfParallelism);
        Guard.Length(sample.ImageCount, bags.Count, "reference sample image count");
        var runner = new NearestPatchRunner(maxDegreeOfParallelism);
        var scores = new double[bags.Count][];
        for (var i = 0; i < bags.Count; i++)
        {
            scores[i] = new double[bags[i].PatchCount];
            runner.SetQuery(bags[i]);
            runner.AddNearest(sample.ReferencesFor(i).Select(j => bags[j]).ToArray(), scores[i]);
            Divide(scores[i], sample.ReferenceCount);
        }
        return scores;
    }

    /// <summary>
    /// The score of one image against given references: scores[k] = mean over the references of
    /// min_l ||z_k - r_l||, summed in list order. O(R M M' T) flops. Throws for no references.
    /// </summary>
    public static void ForImage(PatchBag query, IReadOnlyList<PatchBag> references, Span<double> scores, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0)
        {
            throw new InvalidClusteringInputException("An unsupervised patch score needs at least one reference image.", nameof(references));
        }
        scores.Clear();
        NearestPatchDistances.Accumulate(query, references, scores, maxDegreeOfParallelism);
        for (var k = 0; k < scores.Length; k++)
        {
            scores[k] /= references.Count;
        }
    }

    private static void CheckBags(IReadOnlyList<PatchBag> bags)
    {
        ArgumentNullException.ThrowIfNull(bags);
        if (bags.Count < 2)
        {
            throw new InvalidClusteringInputException(
                $"Unsupervised patch scores compare every image with other images, so they need at least 2 images; got {bags.Count}.",
                nameof(bags));
        }
        ScoringInput.CheckBag(bags[0], "bags[0]");
        ScoringInput.CheckBags(bags, bags[0].Dimension, nameof(bags));
    }

    private static int MaxPatchCount(IReadOnlyList<PatchBag> bags)
    {
        var max = 0;
        foreach (var bag in bags)
        {
            max = Math.Max(max, bag.PatchCount);
        }
        return max;
    }

    private static void Add(double[] sums, double[] terms)
    {
        for (var k = 0; k < terms.Length; k++)
        {
            sums[k] += terms[k];
        }
    }

    private static void Divide(double[] sums, int count)
    {
        for (var k = 0; k < sums.Length; k++)
        {
            sums[k] /= count;
        }
    }
}
