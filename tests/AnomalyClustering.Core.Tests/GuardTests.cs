using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests;

public class GuardTests
{
    [Fact]
    public void NaNIsRejectedWithItsIndex()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => Guard.Finite([1f, float.NaN], "points"));
        Assert.Contains("index 1", error.Message);
    }
}
