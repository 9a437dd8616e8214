using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>Counting, label order and input validation of the contingency table.</summary>
public class ContingencyTableTests
{
    [Fact]
    public void CountsItemsPerClassAndClusterInSortedLabelOrder()
    {
        var table = new ContingencyTable([5, -2, 5, 5, 9], [30, 30, 10, 10, 10]);
        Assert.Equal([-2, 5, 9], table.Classes);
        Assert.Equal([10, 30], table.Clusters);
        Assert.Equal(new[,] { { 0, 1 }, { 2, 1 }, { 1, 0 } }, table.ToDense());
        Assert.Equal([1, 3, 1], table.ClassSizes.ToArray());
        Assert.Equal([3, 2], table.ClusterSizes.ToArray());
        Assert.Equal(2, table[1, 0]);
        Assert.Equal(0, table[2, 1]);
        Assert.Equal(4, table.NonZeroCount);
        Assert.Equal(5, table.SampleCount);
    }

    [Fact]
    public void SparseAndDenseCountingAgree()
    {
        // 2000 singleton clusters take the sorted-key path; the same table rebuilt cell by cell must match.
        var random = new Random(3);
        var n = 2000;
        var classes = Enumerable.Range(0, n).Select(_ => random.Next(0, 40)).ToArray();
        var clusters = Enumerable.Range(0, n).Select(i => i * 7 % 1999 + random.Next(0, 3) * 5000).ToArray();
        var table = new ContingencyTable(classes, clusters);
        var expected = new int[table.ClassCount, table.ClusterCount];
        for (var i = 0; i < n; i++)
        {
            expected[table.ClassEncoding.CodeOf(classes[i]), table.ClusterEncoding.CodeOf(clusters[i])]++;
        }
        Assert.Equal(expected, table.ToDense());
        Assert.Equal(expected.Cast<int>().Count(c => c != 0), table.NonZeroCount);
    }

    [Fact]
    public void StringLabelsAreOrderedByCodePointLikeNumpy()
    {
        // numpy.unique(['😀', '\ufffd', 'b', 'B']) is ['B', 'b', '\ufffd', '😀']; UTF-16 ordinal order would put 😀 first.
        var encoding = LabelEncoding.Of(["\U0001F600", "\uFFFD", "b", "B", "b"]);
        Assert.Equal(["B", "b", "\uFFFD", "\U0001F600"], encoding.Names);
        Assert.Equal([3, 2, 1, 0, 1], encoding.Codes.ToArray());
        Assert.Equal([1, 2, 1, 1], encoding.Sizes.ToArray());
    }

    [Fact]
    public void ClassNamesAndClusterIdsMakeOneTable()
    {
        var table = ContingencyTable.Create(["good", "crack", "good", "hole"], [1, 0, 1, 0]);
        Assert.Equal(["crack", "good", "hole"], table.ClassEncoding.Names);
        Assert.Equal(new[,] { { 1, 0 }, { 0, 2 }, { 1, 0 } }, table.ToDense());
    }

    [Fact]
    public void EmptyLabelingsAreRejected()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => new ContingencyTable([], []));
        Assert.Contains("empty", error.Message);
        Assert.Throws<InvalidClusteringInputException>(() => ContingencyTable.Create(Array.Empty<string>(), ReadOnlySpan<int>.Empty));
    }

    [Fact]
    public void LengthMismatchIsRejected()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => new ContingencyTable([1, 2, 3], [1, 2]));
        Assert.Contains("length 2, expected 3", error.Message);
        Assert.Throws<InvalidClusteringInputException>(() => ContingencyTable.Create(["a", "b"], ["a"]));
        Assert.Throws<InvalidClusteringInputException>(() => ContingencyTable.Create(["a", "b"], [1, 2, 3]));
    }

    [Fact]
    public void MissingNameIsRejected()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => ContingencyTable.Create(["a", null!, "b"], [0, 0, 1]));
        Assert.Contains("index 1", error.Message);
    }
}
