namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// External clustering scores against known labels (METHOD.md section 5), each equal to
/// scikit-learn 1.2.1 to 1e-9: the same special cases, natural logarithms and the same order of
/// floating-point operations. Every score is O(N log N) for building the contingency table and
/// O(cells) after it; the F1 adds the O(n^2 m) matching.
/// </summary>
public static class ClusteringMetrics
{
    /// <summary>Machine epsilon of double (numpy.finfo(float64).eps); scikit-learn zeroes MI terms smaller than it.</summary>
    private const double Float64Epsilon = 2.220446049250313e-16;

    /// <summary>
    /// Normalised mutual information with arithmetic-mean normalisation, MI / ((H(true) + H(pred)) / 2)
    /// (scikit-learn's normalized_mutual_info_score default). 1.0 when both labelings are a single
    /// group; 0.0 when only one of them is.
    /// </summary>
    /// <exception cref="Validation.InvalidClusteringInputException">A labeling is empty or the lengths differ.</exception>
    public static double NormalizedMutualInformation(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
        => NormalizedMutualInformation(new ContingencyTable(trueLabels, predictedLabels));

    /// <summary>Normalised mutual information (arithmetic mean) of a contingency table.</summary>
    public static double NormalizedMutualInformation(ContingencyTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        // Neither labeling splits the data: both have zero entropy, a perfect match.
        if (table.ClassCount == 1 && table.ClusterCount == 1)
        {
            return 1.0;
        }
        var mutualInformation = MutualInformation(table);
        // Zero MI cannot be a perfect match here, so NMI is 0 whatever the normaliser.
        if (mutualInformation == 0)
        {
            return 0.0;
        }
        var normalizer = (Entropy(table.ClassSizes) + Entropy(table.ClusterSizes)) / 2.0;
        return mutualInformation / normalizer;
    }

    /// <summary>Mutual information in nats (scikit-learn's mutual_info_score); 0 when either labeling is a single group.</summary>
    public static double MutualInformation(ContingencyTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.ClassCount == 1 || table.ClusterCount == 1)
        {
            return 0.0;
        }
        var total = (double)table.SampleCount;
        var logTotal = Math.Log(total);
        var classSizes = table.ClassSizes;
        var clusterSizes = table.ClusterSizes;
        // scikit-learn reads the cells with scipy.sparse.find, which orders them column-major; the
        // terms are placed in that order so that the pairwise sum rounds exactly as scikit-learn's.
        var slot = new int[table.ClusterCount + 1];
        for (var row = 0; row < table.ClassCount; row++)
        {
            foreach (var column in table.RowClusters(row))
            {
                slot[column + 1]++;
            }
        }
        for (var column = 0; column < table.ClusterCount; column++)
        {
            slot[column + 1] += slot[column];
        }
        var terms = new double[table.NonZeroCount];
        for (var row = 0; row < table.ClassCount; row++)
        {
            var clusters = table.RowClusters(row);
            var counts = table.RowCounts(row);
            for (var c = 0; c < clusters.Length; c++)
            {
                // n_ij/N * (log n_ij - log N) + n_ij/N * (log N + log N - log(a_i b_j)), term by term as scikit-learn.
                var count = (double)counts[c];
                var fraction = count / total;
                var outer = (long)classSizes[row] * clusterSizes[clusters[c]];
                var logOuter = -Math.Log(outer) + logTotal + logTotal;
                var term = fraction * (Math.Log(count) - logTotal) + fraction * logOuter;
                terms[slot[clusters[c]]++] = Math.Abs(term) < Float64Epsilon ? 0.0 : term;
            }
        }
        return Math.Max(PairwiseSummation.Sum(terms), 0.0);
    }

    /// <summary>
    /// Adjusted Rand index (scikit-learn's adjusted_rand_score): the Rand index corrected for chance,
    /// from the pair confusion matrix in exact 128-bit integers (no overflow for any N that fits an int).
    /// 1.0 when the labelings agree on every pair (also N = 1).
    /// </summary>
    /// <exception cref="Validation.InvalidClusteringInputException">A labeling is empty or the lengths differ.</exception>
    public static double AdjustedRandIndex(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
        => AdjustedRandIndex(new ContingencyTable(trueLabels, predictedLabels));

    /// <summary>Adjusted Rand index of a contingency table.</summary>
    public static double AdjustedRandIndex(ContingencyTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        long n = table.SampleCount;
        var classSizes = table.ClassSizes;
        var clusterSizes = table.ClusterSizes;
        long sumSquares = 0;
        long sumTimesClusterSize = 0;
        long sumTimesClassSize = 0;
        for (var row = 0; row < table.ClassCount; row++)
        {
            var clusters = table.RowClusters(row);
            var counts = table.RowCounts(row);
            for (var c = 0; c < clusters.Length; c++)
            {
                long count = counts[c];
                sumSquares += count * count;
                sumTimesClusterSize += count * clusterSizes[clusters[c]];
                sumTimesClassSize += count * classSizes[row];
            }
        }
        // Pair confusion matrix (ordered pairs): together in both, only in pred, only in true, in neither.
        Int128 truePositive = sumSquares - n;
        Int128 falsePositive = sumTimesClusterSize - sumSquares;
        Int128 falseNegative = sumTimesClassSize - sumSquares;
        Int128 trueNegative = n * n - (sumTimesClusterSize - sumSquares) - (sumTimesClassSize - sumSquares) - sumSquares;
        if (falseNegative == 0 && falsePositive == 0)
        {
            return 1.0;
        }
        // scikit-learn: 2.0 * int / int with Python integers, i.e. each integer rounded once to double.
        var numerator = (double)(truePositive * trueNegative - falseNegative * falsePositive);
        var denominator = (double)((truePositive + falseNegative) * (falseNegative + trueNegative)
            + (truePositive + falsePositive) * (falsePositive + trueNegative));
        return 2.0 * numerator / denominator;
    }

    /// <summary>
    /// Micro-averaged F1 after matching clusters one-to-one to classes with the Hungarian algorithm so
    /// that the most items are matched; equals clustering accuracy. Items of unmatched clusters or
    /// classes (when their numbers differ) count as wrong.
    /// </summary>
    /// <exception cref="Validation.InvalidClusteringInputException">A labeling is empty or the lengths differ.</exception>
    public static double HungarianF1(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
        => HungarianF1(new ContingencyTable(trueLabels, predictedLabels));

    /// <summary>Hungarian-matched micro-F1 of a contingency table.</summary>
    public static double HungarianF1(ContingencyTable table) => ClusterClassMatching.Create(table).Accuracy;

    /// <summary>NMI, ARI and Hungarian F1 of two integer labelings, with the contingency table and matching.</summary>
    /// <exception cref="Validation.InvalidClusteringInputException">A labeling is empty or the lengths differ.</exception>
    public static ClusteringScores Evaluate(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
        => Evaluate(new ContingencyTable(trueLabels, predictedLabels));

    /// <summary>NMI, ARI and Hungarian F1 of class names (e.g. defect types) against cluster ids.</summary>
    /// <exception cref="Validation.InvalidClusteringInputException">A labeling is empty, a name is null, or the lengths differ.</exception>
    public static ClusteringScores Evaluate(IReadOnlyList<string> trueLabels, ReadOnlySpan<int> predictedLabels)
        => Evaluate(ContingencyTable.Create(trueLabels, predictedLabels));

    /// <summary>NMI, ARI and Hungarian F1 of a contingency table.</summary>
    public static ClusteringScores Evaluate(ContingencyTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var matching = ClusterClassMatching.Create(table);
        return new ClusteringScores(
            NormalizedMutualInformation(table),
            AdjustedRandIndex(table),
            matching.Accuracy,
            table,
            matching);
    }

    /// <summary>Entropy in nats of a labeling given its group sizes (scikit-learn's entropy; 0 for one group).</summary>
    private static double Entropy(ReadOnlySpan<int> sizes)
    {
        if (sizes.Length == 1)
        {
            return 0.0;
        }
        var asDouble = new double[sizes.Length];
        for (var i = 0; i < sizes.Length; i++)
        {
            asDouble[i] = sizes[i];
        }
        var sum = PairwiseSummation.Sum(asDouble);
        var logSum = Math.Log(sum);
        // log(a / b) as log(a) - log(b), as scikit-learn does for precision.
        for (var i = 0; i < asDouble.Length; i++)
        {
            asDouble[i] = asDouble[i] / sum * (Math.Log(asDouble[i]) - logSum);
        }
        return -PairwiseSummation.Sum(asDouble);
    }
}
