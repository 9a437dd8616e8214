using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// How many items of each true class fall into each predicted cluster (scikit-learn's
/// contingency_matrix): rows are classes, columns are clusters, both in sorted label order.
/// Stored sparsely (only non-zero cells, row-major) so that N singleton clusters cost O(N), not O(N^2).
/// Built in O(N log N).
/// </summary>
public sealed class ContingencyTable
{
    private readonly int[] rowStart;
    private readonly int[] columnIndex;
    private readonly int[] cellCount;

    /// <summary>Counts the items of each (class, cluster) pair of two integer labelings of the same items.</summary>
    /// <param name="trueLabels">The ground-truth class of every item (any integer values).</param>
    /// <param name="predictedLabels">The predicted cluster of every item (any integer values).</param>
    /// <exception cref="InvalidClusteringInputException">A labeling is empty or the lengths differ.</exception>
    public ContingencyTable(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
        : this(EncodeBoth(trueLabels, predictedLabels))
    {
    }

    /// <summary>Counts the items of each (class, cluster) pair of two encoded labelings of the same items.</summary>
    /// <exception cref="InvalidClusteringInputException">The two encodings cover different numbers of items.</exception>
    public ContingencyTable(LabelEncoding classes, LabelEncoding clusters)
        : this(CheckPair(classes, clusters))
    {
    }

    private ContingencyTable((LabelEncoding Classes, LabelEncoding Clusters) encodings)
    {
        ClassEncoding = encodings.Classes;
        ClusterEncoding = encodings.Clusters;
        (rowStart, columnIndex, cellCount) = Count(ClassEncoding.Codes, ClusterEncoding.Codes, ClassCount, ClusterCount);
    }

    /// <summary>A table from class names (e.g. defect types) and integer cluster ids.</summary>
    /// <exception cref="InvalidClusteringInputException">A labeling is empty, a name is null, or the lengths differ.</exception>
    public static ContingencyTable Create(IReadOnlyList<string> trueLabels, ReadOnlySpan<int> predictedLabels)
    {
        ArgumentNullException.ThrowIfNull(trueLabels);
        Guard.Length(predictedLabels.Length, trueLabels.Count, "predicted labels");
        return new ContingencyTable(LabelEncoding.Of(trueLabels, "true labels"), LabelEncoding.Of(predictedLabels, "predicted labels"));
    }

    /// <summary>A table from two string labelings.</summary>
    /// <exception cref="InvalidClusteringInputException">A labeling is empty, a name is null, or the lengths differ.</exception>
    public static ContingencyTable Create(IReadOnlyList<string> trueLabels, IReadOnlyList<string> predictedLabels)
    {
        ArgumentNullException.ThrowIfNull(trueLabels);
        ArgumentNullException.ThrowIfNull(predictedLabels);
        Guard.Length(predictedLabels.Count, trueLabels.Count, "predicted labels");
        return new ContingencyTable(LabelEncoding.Of(trueLabels, "true labels"), LabelEncoding.Of(predictedLabels, "predicted labels"));
    }

    /// <summary>The true labeling: class codes, values and names.</summary>
    public LabelEncoding ClassEncoding { get; }

    /// <summary>The predicted labeling: cluster codes, values and names.</summary>
    public LabelEncoding ClusterEncoding { get; }

    /// <summary>Number of items N.</summary>
    public int SampleCount => ClassEncoding.Count;

    /// <summary>Number of distinct true classes (rows).</summary>
    public int ClassCount => ClassEncoding.LabelCount;

    /// <summary>Number of distinct predicted clusters (columns).</summary>
    public int ClusterCount => ClusterEncoding.LabelCount;

    /// <summary>The class label of each row, sorted.</summary>
    public IReadOnlyList<int> Classes => ClassEncoding.Values;

    /// <summary>The cluster label of each column, sorted.</summary>
    public IReadOnlyList<int> Clusters => ClusterEncoding.Values;

    /// <summary>Items per class (row sums).</summary>
    public ReadOnlySpan<int> ClassSizes => ClassEncoding.Sizes;

    /// <summary>Items per cluster (column sums).</summary>
    public ReadOnlySpan<int> ClusterSizes => ClusterEncoding.Sizes;

    /// <summary>Number of non-zero cells.</summary>
    public int NonZeroCount => cellCount.Length;

    /// <summary>Items of class row <paramref name="classIndex"/> in cluster column <paramref name="clusterIndex"/>. O(log cells in the row).</summary>
    public int this[int classIndex, int clusterIndex]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, ClassCount);
            ArgumentOutOfRangeException.ThrowIfNegative(clusterIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(clusterIndex, ClusterCount);
            var start = rowStart[classIndex];
            var found = Array.BinarySearch(columnIndex, start, rowStart[classIndex + 1] - start, clusterIndex);
            return found >= 0 ? cellCount[found] : 0;
        }
    }

    /// <summary>The column indices of the non-zero cells of one class row, ascending.</summary>
    public ReadOnlySpan<int> RowClusters(int classIndex) => columnIndex.AsSpan(rowStart[classIndex], rowStart[classIndex + 1] - rowStart[classIndex]);

    /// <summary>The counts of the non-zero cells of one class row, matching <see cref="RowClusters"/>.</summary>
    public ReadOnlySpan<int> RowCounts(int classIndex) => cellCount.AsSpan(rowStart[classIndex], rowStart[classIndex + 1] - rowStart[classIndex]);

    /// <summary>The full table as a dense ClassCount x ClusterCount array.</summary>
    public int[,] ToDense()
    {
        var dense = new int[ClassCount, ClusterCount];
        for (var row = 0; row < ClassCount; row++)
        {
            for (var k = rowStart[row]; k < rowStart[row + 1]; k++)
            {
                dense[row, columnIndex[k]] = cellCount[k];
            }
        }
        return dense;
    }

    private static (LabelEncoding, LabelEncoding) EncodeBoth(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predictedLabels)
    {
        Guard.Length(predictedLabels.Length, trueLabels.Length, "predicted labels");
        return (LabelEncoding.Of(trueLabels, "true labels"), LabelEncoding.Of(predictedLabels, "predicted labels"));
    }

    private static (LabelEncoding, LabelEncoding) CheckPair(LabelEncoding classes, LabelEncoding clusters)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(clusters);
        Guard.Length(clusters.Count, classes.Count, "predicted labels");
        return (classes, clusters);
    }

    private static (int[] RowStart, int[] Columns, int[] Counts) Count(ReadOnlySpan<int> classCodes, ReadOnlySpan<int> clusterCodes, int classCount, int clusterCount)
    {
        var cells = (long)classCount * clusterCount;
        var n = classCodes.Length;
        if (cells <= 4L * n + 1024)
        {
            // Small table: count densely in O(N + K*C), then keep the non-zero cells.
            var dense = new int[cells];
            for (var i = 0; i < n; i++)
            {
                dense[(long)classCodes[i] * clusterCount + clusterCodes[i]]++;
            }
            var nonZero = 0;
            foreach (var count in dense)
            {
                nonZero += count != 0 ? 1 : 0;
            }
            var starts = new int[classCount + 1];
            var columns = new int[nonZero];
            var counts = new int[nonZero];
            var k = 0;
            for (var row = 0; row < classCount; row++)
            {
                starts[row] = k;
                for (var column = 0; column < clusterCount; column++)
                {
                    var count = dense[(long)row * clusterCount + column];
                    if (count != 0)
                    {
                        columns[k] = column;
                        counts[k++] = count;
                    }
                }
            }
            starts[classCount] = k;
            return (starts, columns, counts);
        }

        // Large, sparse table (many clusters): sort the cell keys, O(N log N), memory O(N).
        var keys = new long[n];
        for (var i = 0; i < n; i++)
        {
            keys[i] = (long)classCodes[i] * clusterCount + clusterCodes[i];
        }
        Array.Sort(keys);
        var distinct = 1;
        for (var i = 1; i < n; i++)
        {
            distinct += keys[i] != keys[i - 1] ? 1 : 0;
        }
        var rowStarts = new int[classCount + 1];
        var cellColumns = new int[distinct];
        var cellCounts = new int[distinct];
        var cell = -1;
        for (var i = 0; i < n; i++)
        {
            if (i == 0 || keys[i] != keys[i - 1])
            {
                cell++;
                cellColumns[cell] = (int)(keys[i] % clusterCount);
                rowStarts[(int)(keys[i] / clusterCount) + 1]++;
            }
            cellCounts[cell]++;
        }
        for (var row = 0; row < classCount; row++)
        {
            rowStarts[row + 1] += rowStarts[row];
        }
        return (rowStarts, cellColumns, cellCounts);
    }
}
