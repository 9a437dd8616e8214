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
    public void AShapeEntryPastIntRangeIsATooLargeInputError()
    {
        // A header that declares 3,000,000,000 rows over 64 bytes of data: int.Parse of the shape overflowed before.
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000, 1), }";
        header = header.PadRight(117) + "\n";
        byte[] bytes = [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. System.Text.Encoding.Latin1.GetBytes(header), .. new byte[64]];

        var error = Assert.Throws<InvalidClusteringInputException>(() => NpyArray.ReadSingleMatrix(new MemoryStream(bytes), out _, out _));

        Assert.Contains("too large", error.Message);
        Assert.Contains("3000000000", error.Message);
    }

    [Fact]
    public void RowsOfATruncatedFileAreRefusedBeforeAnyIsRead()
    {
        var bytes = NpyArray.FromSingles([1f, 2f, 3f, 4f], 2, 2).ToBytes();

        Assert.Throws<InvalidClusteringInputException>(() => NpyArray.ReadSingleRows(new MemoryStream(bytes, 0, bytes.Length - 4), out _, out _));
    }
}
