using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Core.Interop;

namespace AnomalyClustering.Cli.Tests;

public sealed class VectorFileTests
{
    [Fact]
    public void NpyFloat64IsReadAsRowsWithIndexIds()
    {
        using var folder = new TempFolder();
        var path = folder.Write(NpyArray.FromDoubles([1, 2, 3, 4, 5, 6], 3, 2).ToBytes(), "x.npy");

        var table = EmbeddingTable.Read(path);

        Assert.Equal((3, 2), (table.Count, table.Dimension));
        Assert.Equal([1f, 2, 3, 4, 5, 6], table.Values);
        Assert.Equal(["0", "1", "2"], table.Ids);
        Assert.False(table.HasIdColumn);
    }

    [Fact]
    public void NpyOfWrongRankIsRejected()
    {
        using var folder = new TempFolder();
        var path = folder.Write(NpyArray.FromSingles([1, 2, 3], 3).ToBytes(), "x.npy");
        var error = Assert.Throws<CliInputException>(() => EmbeddingTable.Read(path));
        Assert.Contains("2-D", error.Message);
    }

    [Fact]
    public void NpyWithNaNIsRejected()
    {
        using var folder = new TempFolder();
        var path = folder.Write(NpyArray.FromSingles([1, float.NaN, 3, 4], 2, 2).ToBytes(), "x.npy");
        var error = Assert.Throws<CliInputException>(() => EmbeddingTable.Read(path));
        Assert.Contains("finite", error.Message);
        Assert.DoesNotContain("Parameter", error.Message);
    }

    [Theory]
    [InlineData("0.5,1\n2,3e-1\n", false)]
    [InlineData("f0,f1\n0.5,1\n2,3e-1\n", false)]
    [InlineData("a.png,0.5,1\nb.png,2,3e-1\n", true)]
    [InlineData("image,f0,f1\na.png,0.5,1\nb.png,2,3e-1\n", true)]
    [InlineData(",0,1\n0,0.5,1\n1,2,3e-1\n", true)]
    public void CsvWithOrWithoutHeaderAndIdColumn(string text, bool hasIds)
    {
        using var folder = new TempFolder();
        var path = folder.WriteText(text, "x.csv");

        var table = EmbeddingTable.Read(path);

        Assert.Equal((2, 2), (table.Count, table.Dimension));
        Assert.Equal([0.5f, 1f, 2f, 0.3f], table.Values);
        Assert.Equal(hasIds, table.HasIdColumn);
        if (hasIds && text.Contains(".png"))
        {
            Assert.Equal(["a.png", "b.png"], table.Ids);
        }
    }

    [Theory]
    [InlineData("1,2\n3,4\nx,5\n", 3)]
    [InlineData("f0,f1\n1,2\nNA,4\n5,6\n", 3)]
    public void CsvColumnOneNumericInSomeRowsOnlyIsAnErrorNotIds(string text, int line)
    {
        // One typo or 'NA' in column 1 once made the whole column ids: every row lost a dimension, without a word.
        using var folder = new TempFolder();
        var path = folder.WriteText(text, "x.csv");

        var error = Assert.Throws<CliInputException>(() => EmbeddingTable.Read(path));

        Assert.Contains($"line {line}, column 1: '", error.Message);
        Assert.Contains("is not a number", error.Message);
    }

    [Theory]
    [InlineData("0.5x,1\n2,3\n4,5\n")]
    [InlineData("row,1\n2,3\n4,5\n")]
    public void ALineOneOfNumbersButForColumnOneIsARowWithATypoNotAHeader(string text)
    {
        // Once read as a header whenever line 2 had a number in column 1: the row was lost without a word.
        using var folder = new TempFolder();
        var path = folder.WriteText(text, "x.csv");

        var error = Assert.Throws<CliInputException>(() => EmbeddingTable.Read(path));

        Assert.Contains("line 1, column 1: '", error.Message);
        Assert.Contains("is not a number", error.Message);
        Assert.Contains("header", error.Message);
        // Named as an id column, the same line is a header.
        var named = EmbeddingTable.Read(folder.WriteText("id" + text[text.IndexOf(',')..], "named.csv"));
        Assert.Equal((2, 1), (named.Count, named.Dimension));
        Assert.Equal(["2", "4"], named.Ids);
    }

    [Fact]
    public void PandasColumnNumbersAreAHeaderAboveEmbeddingsAndDataAboveWholeNumbers()
    {
        // DataFrame(x).to_csv(index=False) writes the column numbers as line 1: once read as a made-up point (0, 1, 2).
        using var folder = new TempFolder();
        var pandas = EmbeddingTable.Read(folder.WriteText("0,1,2\n0.5,1.25,2\n3.5,4,5.75\n", "pandas.csv"));
        Assert.Equal((2, 3), (pandas.Count, pandas.Dimension));
        Assert.Equal([0.5f, 1.25f, 2, 3.5f, 4, 5.75f], pandas.Values);
        Assert.False(pandas.HasIdColumn);

        // The same after an id column's name that is not one of the known ones: the text ids stay ids.
        var named = EmbeddingTable.Read(folder.WriteText("sample,0,1\na,0.5,1.5\nb,2.5,3\n", "named.csv"));
        Assert.Equal(["a", "b"], named.Ids);
        Assert.Equal([0.5f, 1.5f, 2.5f, 3], named.Values);

        // Whole numbers below: line 1 may be a point like the others, and is kept.
        var integers = EmbeddingTable.Read(folder.WriteText("0,1,2\n3,4,5\n", "integers.csv"));
        Assert.Equal((2, 3), (integers.Count, integers.Dimension));
        Assert.Equal([0f, 1, 2, 3, 4, 5], integers.Values);
    }

    [Fact]
    public void CsvColumnOneOfTextInEveryRowIsIdsWithoutAHeader()
    {
        using var folder = new TempFolder();
        var table = EmbeddingTable.Read(folder.WriteText("a,1,2\nb,3,4\nc,5,6\n", "x.csv"));

        Assert.True(table.HasIdColumn);
        Assert.Equal(["a", "b", "c"], table.Ids);
        Assert.Equal(2, table.Dimension);
    }

    [Fact]
    public void CsvWithRaggedRowsNamesTheLine()
    {
        using var folder = new TempFolder();
        var path = folder.WriteText("1,2\n3,4\n5\n", "x.csv");
        var error = Assert.Throws<CliInputException>(() => EmbeddingTable.Read(path));
        Assert.Contains("line 3", error.Message);
    }

    [Fact]
    public void MissingFileAndUnknownExtensionAreInputErrors()
    {
        using var folder = new TempFolder();
        Assert.Contains("does not exist", Assert.Throws<CliInputException>(() => EmbeddingTable.Read(folder.Combine("none.npy"))).Message);
        var other = folder.WriteText("1,2", "x.parquet");
        Assert.Contains("unknown embeddings format", Assert.Throws<CliInputException>(() => EmbeddingTable.Read(other)).Message);
    }

    [Fact]
    public void LabelsByRowIndexDropCombined()
    {
        using var folder = new TempFolder();
        var table = EmbeddingTable.Read(folder.Write(NpyArray.FromSingles(new float[8], 4, 2).ToBytes(), "x.npy"));
        var labels = ImageLabels.Read(folder.WriteText("index,label\n3,crack\n0,good\n1,combined\n2,crack\n", "labels.csv"), table);

        Assert.Equal([0, 2, 3], labels.Rows);
        Assert.Equal(["good", "crack", "crack"], labels.Labels);
        Assert.Equal(1, labels.CombinedDropped);
    }

    [Fact]
    public void LabelsByImageIdMatchTheIdColumn()
    {
        using var folder = new TempFolder();
        var table = EmbeddingTable.Read(folder.WriteText("b.png,1,2\na.png,3,4\n", "x.csv"));
        var labels = ImageLabels.Read(folder.WriteText("a.png,stain\nb.png,hole\n", "labels.csv"), table);

        Assert.Equal([0, 1], labels.Rows);
        Assert.Equal(["hole", "stain"], labels.Labels);
    }

    [Fact]
    public void OneColumnLabelsFollowRowOrder()
    {
        using var folder = new TempFolder();
        var table = EmbeddingTable.Read(folder.WriteText("1,2\n3,4\n5,6\n", "x.csv"));
        var labels = ImageLabels.Read(folder.WriteText("label\ngood\nCombined\nscratch\n", "labels.csv"), table);

        Assert.Equal([0, 2], labels.Rows);
        Assert.Equal(["good", "scratch"], labels.Labels);
    }

    [Fact]
    public void LabelErrorsSayWhatIsWrong()
    {
        using var folder = new TempFolder();
        var table = EmbeddingTable.Read(folder.WriteText("1,2\n3,4\n", "x.csv"));

        Assert.Contains("no label for 1 of 2", Assert.Throws<CliInputException>(() => ImageLabels.Read(folder.WriteText("0,good\n", "a.csv"), table)).Message);
        Assert.Contains("not a row index", Assert.Throws<CliInputException>(() => ImageLabels.Read(folder.WriteText("0,good\n7,bad\n", "b.csv"), table)).Message);
        Assert.Contains("labelled twice", Assert.Throws<CliInputException>(() => ImageLabels.Read(folder.WriteText("0,good\n0,bad\n1,x\n", "c.csv"), table)).Message);
        Assert.Contains("nothing is left", Assert.Throws<CliInputException>(() => ImageLabels.Read(folder.WriteText("0,combined\n1,combined\n", "d.csv"), table)).Message);
        Assert.Contains("3 labels in one column", Assert.Throws<CliInputException>(() => ImageLabels.Read(folder.WriteText("a\nb\nc\n", "e.csv"), table)).Message);
    }
}
