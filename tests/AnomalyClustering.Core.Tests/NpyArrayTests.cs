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
}
