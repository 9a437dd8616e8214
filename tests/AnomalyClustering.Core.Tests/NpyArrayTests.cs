using AnomalyClustering.Core.Interop;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests;

public class NpyArrayTests
{
    [Fact]
    public void RoundTripsFloat32WithShape()
    {
        var array = NpyArray.FromSingles([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var parsed = NpyArray.Parse(array.ToBytes());
        Assert.Equal([2, 3], parsed.Shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], parsed.ToSingles());
    }

    [Fact]
    public void RejectsBytesThatAreNotNpy()
    {
        Assert.Throws<InvalidClusteringInputException>(() => NpyArray.Parse("hello, world"u8));
    }

    [Fact]
    public void RejectsTruncatedData()
    {
        var bytes = NpyArray.FromDoubles([1, 2, 3], 3).ToBytes();
        Assert.Throws<InvalidClusteringInputException>(() => NpyArray.Parse(bytes.AsSpan(0, bytes.Length - 4)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RowsReadOneByOneAreTheMatrixRows(bool float64)
    {
        float[] values = [1.5f, -2f, 3.25f, 4f, 5f, -6.5f, 7f, 8f];
        var bytes = float64 ? NpyArray.FromDoubles(values.Select(v => (double)v).ToArray(), 4, 2).ToBytes() : NpyArray.FromSingles(values, 4, 2).ToBytes();

        var rows = NpyArray.ReadSingleRows(new MemoryStream(bytes), out var rowCount, out var width);
        var matrix = NpyArray.ReadSingleMatrix(new MemoryStream(bytes), out _, out _);

        Assert.Equal((4, 2), (rowCount, width));
        Assert.Equal(matrix.Chunk(2), rows);
    }

    [Fact]
    public void RowsOfATruncatedFileAreRefusedBeforeAnyIsRead()
    {
        var bytes = NpyArray.FromSingles([1f, 2f, 3f, 4f], 2, 2).ToBytes();

        Assert.Throws<InvalidClusteringInputException>(() => NpyArray.ReadSingleRows(new MemoryStream(bytes, 0, bytes.Length - 4), out _, out _));
    }
}
