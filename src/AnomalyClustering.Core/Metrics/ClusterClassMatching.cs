namespace AnomalyClustering.Core.Metrics;

/// <summary>One matched pair of the Hungarian matching: a class, its cluster, and the items they share.</summary>
/// <param name="ClassIndex">Row of the class in the contingency table.</param>
/// <param name="ClusterIndex">Column of the cluster in the contingency table.</param>
/// <param name="ClassLabel">The class label (for string labels: its code, see <see cref="ContingencyTable.ClassEncoding"/>).</param>
/// <param name="ClusterLabel">The cluster label.</param>
/// <param name="Count">Items that are in both, i.e. counted as correct.</param>
public readonly record struct ClassClusterPair(int ClassIndex, int ClusterIndex, int ClassLabel, int ClusterLabel, int Count);

/// <summary>
/// The one-to-one matching of predicted clusters to true classes that maximises the number of
/// items whose cluster is matched to their own class (Hungarian algorithm on the contingency table).
/// With unequal numbers of clusters and classes, min(K, C) pairs exist and the rest stay unmatched.
/// O(n^2 m) for n = min(K, C), m = max(K, C).
/// </summary>
public sealed class ClusterClassMatching
{
    private readonly int[] classOfCluster;

    private ClusterClassMatching(ClassClusterPair[] pairs, int[] classOfCluster, long matchedCount, int sampleCount)
    {
        Pairs = pairs;
        this.classOfCluster = classOfCluster;
        MatchedCount = matchedCount;
        SampleCount = sampleCount;
    }

    /// <summary>Finds the maximum matching of a contingency table (the same pairs as SciPy's linear_sum_assignment with maximize=True).</summary>
    public static ClusterClassMatching Create(ContingencyTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.ClassCount;
        var columns = table.ClusterCount;
        var counts = new double[(long)rows * columns];
        for (var row = 0; row < rows; row++)
        {
            var clusters = table.RowClusters(row);
            var rowCounts = table.RowCounts(row);
            for (var k = 0; k < clusters.Length; k++)
            {
                counts[(long)row * columns + clusters[k]] = rowCounts[k];
            }
        }
        var assignment = LinearSumAssignment.Solve(counts, rows, columns, maximize: true);

        var pairs = new ClassClusterPair[assignment.Count];
        var classOfCluster = new int[columns];
        Array.Fill(classOfCluster, -1);
        long matched = 0;
        for (var k = 0; k < pairs.Length; k++)
        {
            var row = assignment.RowIndices[k];
            var column = assignment.ColumnIndices[k];
            var count = table[row, column];
            pairs[k] = new ClassClusterPair(row, column, table.Classes[row], table.Clusters[column], count);
            classOfCluster[column] = row;
            matched += count;
        }
        return new ClusterClassMatching(pairs, classOfCluster, matched, table.SampleCount);
    }

    /// <summary>The matched pairs, sorted by class row.</summary>
    public IReadOnlyList<ClassClusterPair> Pairs { get; }

    /// <summary>Items whose cluster is matched to their class.</summary>
    public long MatchedCount { get; }

    /// <summary>All items N.</summary>
    public int SampleCount { get; }

    /// <summary>MatchedCount / N: clustering accuracy, equal to the micro-averaged F1 of the mapped prediction.</summary>
    public double Accuracy => MatchedCount / (double)SampleCount;

    /// <summary>The class row matched to a cluster column, or -1 when the cluster is unmatched (more clusters than classes).</summary>
    public int ClassIndexOf(int clusterIndex) => classOfCluster[clusterIndex];
}
