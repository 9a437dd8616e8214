using System.Globalization;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// Which algorithm clusters N points of dimension D with a given linkage within a memory budget,
/// and why; or a typed refusal that names the limit and what to change. Pure and O(1): a job
/// coordinator can call it at submit time.
/// </summary>
/// <param name="Algorithm">The algorithm to run.</param>
/// <param name="Reason">Why, for a person: the memory the matrix would need against the budget, or the size limit that applied.</param>
/// <param name="WorkingBytes">Estimated working memory of that algorithm in bytes, besides the N x D input floats.</param>
public sealed record ClusteringAlgorithmChoice(ClusteringAlgorithm Algorithm, string Reason, long WorkingBytes)
{
    /// <summary>Default memory budget for clustering: 2 GiB, half of the coordinator pod's 4 GiB (the rest holds the embeddings and the process).</summary>
    public const long DefaultMemoryBudgetBytes = 2L << 30;

    /// <summary>
    /// Up to this many points, Ward that does not fit the matrix runs exactly in linear memory; beyond it the O(N^2 D)
    /// time of exact Ward (about 2-3 N scans of N x D) is too long for a job, and two-stage Ward runs instead.
    /// </summary>
    public const int LinearMemoryWardMaxPoints = 100_000;

    /// <summary>
    /// Chooses the algorithm: the distance matrix whenever it fits the budget (fastest, exact, any linkage); otherwise
    /// for Ward exact linear-memory Ward up to <see cref="LinearMemoryWardMaxPoints"/> points, refined two-stage Ward up to
    /// <see cref="RefinedTwoStageWard.MaxPoints"/> and two-stage Ward beyond; otherwise (average, complete, single) a refusal.
    /// </summary>
    /// <param name="count">Number of points N (at least 2).</param>
    /// <param name="dimension">Dimension D (at least 1).</param>
    /// <param name="method">The linkage.</param>
    /// <param name="memoryBudgetBytes">The most working memory clustering may use (at least 1 MiB); <see cref="DefaultMemoryBudgetBytes"/> by default.</param>
    /// <exception cref="InvalidClusteringInputException">
    /// Bad arguments, or no algorithm fits: a non-Ward linkage past the matrix's budget or its 65,535-point limit, or Ward whose
    /// linear-memory state does not fit the budget either. The message names the limit and what to change.
    /// </exception>
    public static ClusteringAlgorithmChoice For(int count, int dimension, LinkageMethod method, long memoryBudgetBytes = DefaultMemoryBudgetBytes)
    {
        Guard.AtLeast(count, 2, "number of points to cluster");
        Guard.AtLeast(dimension, 1, "point dimension");
        if (!Enum.IsDefined(method))
        {
            throw new InvalidClusteringInputException($"linkage method {(int)method} is unknown; use ward, average, complete or single.", nameof(method));
        }
        if (memoryBudgetBytes < 1L << 20)
        {
            throw new InvalidClusteringInputException($"the clustering memory budget is {memoryBudgetBytes} bytes; give at least 1 MiB.", nameof(memoryBudgetBytes));
        }
        var matrixBytes = MatrixBytes(count);
        var budget = Bytes(memoryBudgetBytes);
        var matrixFitsCount = count <= CondensedDistanceMatrix.MaxPointCount;
        if (matrixFitsCount && matrixBytes <= memoryBudgetBytes)
        {
            return new ClusteringAlgorithmChoice(
                ClusteringAlgorithm.DistanceMatrix,
                $"the {Count(count)} x {Count(count)} distance matrix needs {Bytes(matrixBytes)}, within the {budget} budget",
                matrixBytes);
        }
        var matrixProblem = matrixFitsCount
            ? $"the {Count(count)} x {Count(count)} distance matrix needs {Bytes(matrixBytes)}, over the {budget} budget"
            : $"the distance matrix holds at most {Count(CondensedDistanceMatrix.MaxPointCount)} points and {Count(count)} would need {Bytes(matrixBytes)}";
        if (method != LinkageMethod.Ward)
        {
            var fit = MatrixPointsWithin(memoryBudgetBytes);
            throw new InvalidClusteringInputException(
                $"{Name(method)} linkage needs the N x N distance matrix: {matrixProblem}; at most {Count(fit)} images fit the {budget} budget. Use ward linkage (linear memory) or fewer images.",
                nameof(count));
        }
        if (count <= LinearMemoryWardMaxPoints)
        {
            var linearBytes = LinearMemoryWardBytes(count, dimension);
            if (linearBytes <= memoryBudgetBytes)
            {
                return new ClusteringAlgorithmChoice(
                    ClusteringAlgorithm.LinearMemoryWard,
                    $"{matrixProblem}; exact Ward on centroids needs {Bytes(linearBytes)}",
                    linearBytes);
            }
            matrixProblem += $", and exact Ward on centroids would need {Bytes(linearBytes)}";
        }
        else
        {
            matrixProblem += $"; exact Ward runs in linear memory up to {Count(LinearMemoryWardMaxPoints)} points (its time grows as N^2 D)";
        }
        var refinedBytes = RefinedTwoStageBytes(count, dimension);
        if (count <= RefinedTwoStageWard.MaxPoints && refinedBytes <= memoryBudgetBytes)
        {
            return new ClusteringAlgorithmChoice(
                ClusteringAlgorithm.RefinedTwoStageWard,
                $"{matrixProblem}; refined two-stage Ward ({Count(TwoStageWard.DefaultMicroClusterCount)} k-means micro-clusters, exact Ward on them, then exact Ward again inside its subtrees of at most {Count(RefinedTwoStageWard.DefaultGroupMaxPoints)} points) needs {Bytes(refinedBytes)}",
                refinedBytes);
        }
        var twoStageBytes = TwoStageBytes(count, dimension);
        if (twoStageBytes <= memoryBudgetBytes)
        {
            return new ClusteringAlgorithmChoice(
                ClusteringAlgorithm.TwoStageWard,
                $"{matrixProblem}; two-stage Ward ({Count(TwoStageWard.DefaultMicroClusterCount)} k-means micro-clusters, then exact Ward on them) needs {Bytes(twoStageBytes)}",
                twoStageBytes);
        }
        throw new InvalidClusteringInputException(
            $"ward linkage of {Count(count)} images of dimension {Count(dimension)}: {matrixProblem}, and two-stage Ward needs {Bytes(twoStageBytes)}, over the {budget} budget. Raise the clustering memory budget or use fewer images.",
            nameof(count));
    }

    /// <summary>
    /// The algorithm the caller asked for (<paramref name="requested"/>), when it can run: the distance matrix within its
    /// point limit and the budget, linear-memory Ward up to <see cref="LinearMemoryWardMaxPoints"/> points within the
    /// budget, two-stage Ward within the budget; both Ward algorithms only for ward linkage. Null asks
    /// <see cref="For(int, int, LinkageMethod, long)"/> to choose. O(1).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">As for the automatic choice, or the requested algorithm cannot run; the message says why.</exception>
    public static ClusteringAlgorithmChoice For(int count, int dimension, LinkageMethod method, long memoryBudgetBytes, ClusteringAlgorithm? requested)
    {
        var automatic = For(count, dimension, method, memoryBudgetBytes);
        if (requested is not { } algorithm || algorithm == automatic.Algorithm)
        {
            return requested is null ? automatic : automatic with { Reason = "requested" };
        }
        if (algorithm != ClusteringAlgorithm.DistanceMatrix && method != LinkageMethod.Ward)
        {
            throw new InvalidClusteringInputException($"{Name(algorithm)} runs Ward's linkage only; {Name(method)} linkage uses the distance matrix.", "algorithm");
        }
        var (bytes, pointLimit) = algorithm switch
        {
            ClusteringAlgorithm.DistanceMatrix => (MatrixBytes(count), CondensedDistanceMatrix.MaxPointCount),
            ClusteringAlgorithm.LinearMemoryWard => (LinearMemoryWardBytes(count, dimension), LinearMemoryWardMaxPoints),
            ClusteringAlgorithm.RefinedTwoStageWard => (RefinedTwoStageBytes(count, dimension), RefinedTwoStageWard.MaxPoints),
            _ => (TwoStageBytes(count, dimension), int.MaxValue),
        };
        if (count > pointLimit)
        {
            throw new InvalidClusteringInputException(
                $"the requested {Name(algorithm)} takes at most {Count(pointLimit)} points; {Count(count)} were given. Leave the algorithm to the automatic choice.", "algorithm");
        }
        if (bytes > memoryBudgetBytes)
        {
            throw new InvalidClusteringInputException(
                $"the requested {Name(algorithm)} needs {Bytes(bytes)} for {Count(count)} points, over the {Bytes(memoryBudgetBytes)} clustering memory budget. Leave the algorithm to the automatic choice.", "algorithm");
        }
        return new ClusteringAlgorithmChoice(algorithm, "requested", bytes);
    }

    /// <summary>
    /// The largest N that <see cref="For(int, int, LinkageMethod, long, ClusteringAlgorithm?)"/> accepts, in closed form: every
    /// algorithm's memory grows with N, so the accepted counts are those up to the largest limit among the algorithms that
    /// may run. O(1).
    /// </summary>
    public static int MaxPoints(int dimension, LinkageMethod method, long memoryBudgetBytes, ClusteringAlgorithm? requested = null)
    {
        var matrix = MatrixPointsWithin(memoryBudgetBytes);
        if (method != LinkageMethod.Ward || requested == ClusteringAlgorithm.DistanceMatrix)
        {
            return matrix;
        }
        var linear = (int)Math.Min(LinearMemoryWardMaxPoints, memoryBudgetBytes / (4L * dimension + LinearMemoryWardBytesPerPoint(dimension)));
        long micro = TwoStageWard.DefaultMicroClusterCount;
        // Two-stage: 28 min(N, C) D + 8 N bytes; past C points only the 8 bytes per point grow.
        var twoStage = memoryBudgetBytes >= TwoStageBytes((int)micro, dimension)
            ? (memoryBudgetBytes - micro * dimension * 28) / 8
            : memoryBudgetBytes / (28L * dimension + 8);
        var twoStagePoints = (int)Math.Min(int.MaxValue - 1, twoStage);
        var refined = memoryBudgetBytes >= RefinedTwoStageBytes(RefinedTwoStageWard.MaxPoints, dimension)
            ? RefinedTwoStageWard.MaxPoints
            : LargestWithin(RefinedTwoStageWard.MaxPoints, n => RefinedTwoStageBytes(n, dimension) <= memoryBudgetBytes);
        return requested switch
        {
            ClusteringAlgorithm.LinearMemoryWard => linear,
            ClusteringAlgorithm.RefinedTwoStageWard => refined,
            ClusteringAlgorithm.TwoStageWard => twoStagePoints,
            _ => Math.Max(matrix, Math.Max(linear, twoStagePoints)),
        };
    }

    /// <summary>Bytes of the condensed distance matrix: 8 bytes for each of N(N-1)/2 pairs.</summary>
    public static long MatrixBytes(int count) => 8 * CondensedDistanceMatrix.LengthFor(count);

    /// <summary>Bytes of exact linear-memory Ward: a float32 copy of the N x D points (as two planes of 16-bit halves; merged centroids keep their low parts in freed rows) plus the O(N) part.</summary>
    public static long LinearMemoryWardBytes(int count, int dimension) => 4L * count * dimension + LinearMemoryWardBytesPerPoint(dimension) * count;

    /// <summary>
    /// Linear-memory Ward's O(N) part per point: the scan table (P projected floats, index, size,
    /// error, position), the candidates and their sorted copy, sizes, low-row bookkeeping and
    /// slacks, the chain and the merges.
    /// </summary>
    private static long LinearMemoryWardBytesPerPoint(int dimension) => 4L * CentroidProjection.WidthFor(dimension) + 116;

    /// <summary>Bytes of two-stage Ward: the micro-clusters' centres, sums and Ward centroids, plus a leaf index per point.</summary>
    public static long TwoStageBytes(int count, int dimension)
    {
        long micro = Math.Min(count, TwoStageWard.DefaultMicroClusterCount);
        return micro * dimension * (4 + 8 + 8 + 8) + 8L * count;
    }

    /// <summary>
    /// Bytes of refined two-stage Ward: two-stage Ward's, float copies of the groups refined at once (each within linear-memory
    /// Ward's bytes for the largest group), and the tree over the points (merges, their sort and relabelling: 72 bytes a point).
    /// </summary>
    public static long RefinedTwoStageBytes(int count, int dimension) =>
        TwoStageBytes(count, dimension)
        + RefinedTwoStageWard.ConcurrentGroups * 2 * LinearMemoryWardBytes(Math.Min(count, RefinedTwoStageWard.DefaultGroupMaxPoints), dimension)
        + 72L * count;

    /// <summary>The largest N in [2, <paramref name="limit"/>] that <paramref name="fits"/> (monotone), or 1 when none does. O(log limit).</summary>
    private static int LargestWithin(int limit, Func<int, bool> fits)
    {
        int low = 1, high = limit;
        while (low < high)
        {
            var middle = low + (high - low + 1) / 2;
            if (middle >= 2 && fits(middle))
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }
        return low;
    }

    /// <summary>The largest N whose distance matrix fits the budget (and the 65,535-point limit).</summary>
    private static int MatrixPointsWithin(long budgetBytes)
    {
        // 4 N(N-1) <= budget: N = floor((1 + sqrt(1 + budget)) / 2), adjusted for rounding.
        var n = (long)((1 + Math.Sqrt(1 + (double)budgetBytes)) / 2);
        while (n > 2 && 4 * n * (n - 1) > budgetBytes)
        {
            n--;
        }
        while (4 * (n + 1) * n <= budgetBytes)
        {
            n++;
        }
        return (int)Math.Min(n, CondensedDistanceMatrix.MaxPointCount);
    }

    private static string Name(LinkageMethod method) => method.ToString().ToLowerInvariant();

    // The names the CLI and the API use (--algorithm).
    private static string Name(ClusteringAlgorithm algorithm) => algorithm switch
    {
        ClusteringAlgorithm.DistanceMatrix => "distance-matrix",
        ClusteringAlgorithm.LinearMemoryWard => "linear-memory-ward",
        ClusteringAlgorithm.RefinedTwoStageWard => "refined-two-stage-ward",
        _ => "two-stage-ward",
    };

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 40):0.#} TiB"),
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
    };
}
