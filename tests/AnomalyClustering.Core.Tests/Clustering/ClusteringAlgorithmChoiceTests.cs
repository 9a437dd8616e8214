using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>The algorithm for (N, D, linkage, budget): the matrix while it fits, then linear-memory Ward, then two-stage; clear refusals.</summary>
public class ClusteringAlgorithmChoiceTests
{
    private const long TwoGiB = 2L << 30;

    [Fact]
    public void TheMatrixIsUsedWhileItFitsTheBudget()
    {
        // 4 N(N-1) bytes: 23,170 points fit 2 GiB, 23,171 do not.
        var fits = ClusteringAlgorithmChoice.For(23_170, 256, LinkageMethod.Average, TwoGiB);
        Assert.Equal(ClusteringAlgorithm.DistanceMatrix, fits.Algorithm);
        Assert.Equal(4L * 23_170 * 23_169, fits.WorkingBytes);
        Assert.Equal(ClusteringAlgorithm.LinearMemoryWard, ClusteringAlgorithmChoice.For(23_171, 256, LinkageMethod.Ward, TwoGiB).Algorithm);
    }

    [Fact]
    public void WardGoesToLinearMemoryThenTwoStage()
    {
        var exact = ClusteringAlgorithmChoice.For(50_000, 256, LinkageMethod.Ward);
        Assert.Equal(ClusteringAlgorithm.LinearMemoryWard, exact.Algorithm);
        Assert.Contains("needs 9.3 GiB, over the 2 GiB budget", exact.Reason, StringComparison.Ordinal);
        var pastMatrix = ClusteringAlgorithmChoice.For(100_000, 256, LinkageMethod.Ward);
        Assert.Equal(ClusteringAlgorithm.LinearMemoryWard, pastMatrix.Algorithm);
        Assert.Contains("at most 65,535 points", pastMatrix.Reason, StringComparison.Ordinal);
        var refined = ClusteringAlgorithmChoice.For(150_000, 256, LinkageMethod.Ward);
        Assert.Equal(ClusteringAlgorithm.RefinedTwoStageWard, refined.Algorithm);
        Assert.Contains("exact Ward again inside its subtrees of at most 20,000 points", refined.Reason, StringComparison.Ordinal);
        Assert.Equal(ClusteringAlgorithm.RefinedTwoStageWard, ClusteringAlgorithmChoice.For(RefinedTwoStageWard.MaxPoints, 256, LinkageMethod.Ward).Algorithm);
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, ClusteringAlgorithmChoice.For(RefinedTwoStageWard.MaxPoints + 1, 256, LinkageMethod.Ward).Algorithm);
        var twoStage = ClusteringAlgorithmChoice.For(1_000_000, 256, LinkageMethod.Ward);
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, twoStage.Algorithm);
        Assert.Contains("two-stage", twoStage.Reason, StringComparison.Ordinal);
        // A budget too small for the centroids of exact Ward (50,000 x 1,024 floats: 205 MB) falls through to two-stage.
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, ClusteringAlgorithmChoice.For(50_000, 1024, LinkageMethod.Ward, 128L << 20).Algorithm);
    }

    [Fact]
    public void OtherLinkagesAreRefusedPastTheMatrixWithTheLimitAndTheWayOut()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(1_000_000, 256, LinkageMethod.Average, TwoGiB));
        Assert.Contains("average linkage needs the N x N distance matrix", error.Message, StringComparison.Ordinal);
        Assert.Contains("at most 23,170 images fit the 2 GiB budget", error.Message, StringComparison.Ordinal);
        Assert.Contains("Use ward linkage", error.Message, StringComparison.Ordinal);
        var pastLimit = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(70_000, 8, LinkageMethod.Single, 1L << 40));
        Assert.Contains("at most 65,535 points", pastLimit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARequestedAlgorithmRunsOnlyWithinItsLimitsAndTheBudget()
    {
        Assert.Equal(ClusteringAlgorithm.LinearMemoryWard, ClusteringAlgorithmChoice.For(1_000, 256, LinkageMethod.Ward, TwoGiB, ClusteringAlgorithm.LinearMemoryWard).Algorithm);
        Assert.Equal("requested", ClusteringAlgorithmChoice.For(1_000, 256, LinkageMethod.Ward, TwoGiB, ClusteringAlgorithm.TwoStageWard).Reason);
        // Exact Ward's O(N^2 D) time past 100,000 points, the matrix past its limit, Ward algorithms for another linkage.
        var pastRefined = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(300_000, 256, LinkageMethod.Ward, TwoGiB, ClusteringAlgorithm.RefinedTwoStageWard));
        Assert.Contains("refined-two-stage-ward takes at most 200,000 points", pastRefined.Message, StringComparison.Ordinal);
        var slow = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(1_000_000, 256, LinkageMethod.Ward, TwoGiB, ClusteringAlgorithm.LinearMemoryWard));
        Assert.Contains("at most 100,000 points", slow.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(70_000, 8, LinkageMethod.Ward, 1L << 40, ClusteringAlgorithm.DistanceMatrix));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(1_000, 8, LinkageMethod.Average, TwoGiB, ClusteringAlgorithm.TwoStageWard));
        var over = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(20_000, 256, LinkageMethod.Ward, 1L << 30, ClusteringAlgorithm.DistanceMatrix));
        Assert.Contains("over the 1 GiB clustering memory budget", over.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LinkageMethod.Average, 256, 2L << 30, null)]
    [InlineData(LinkageMethod.Single, 8, 1L << 40, null)]
    [InlineData(LinkageMethod.Ward, 256, 2L << 30, null)]
    [InlineData(LinkageMethod.Ward, 4096, 64L << 20, null)]
    [InlineData(LinkageMethod.Ward, 1024, 8L << 20, null)]
    [InlineData(LinkageMethod.Ward, 256, 2L << 30, ClusteringAlgorithm.LinearMemoryWard)]
    [InlineData(LinkageMethod.Ward, 2048, 64L << 20, ClusteringAlgorithm.LinearMemoryWard)]
    [InlineData(LinkageMethod.Ward, 256, 2L << 30, ClusteringAlgorithm.DistanceMatrix)]
    [InlineData(LinkageMethod.Ward, 256, 2L << 30, ClusteringAlgorithm.TwoStageWard)]
    [InlineData(LinkageMethod.Ward, 256, 2L << 30, ClusteringAlgorithm.RefinedTwoStageWard)]
    [InlineData(LinkageMethod.Ward, 1024, 256L << 20, ClusteringAlgorithm.RefinedTwoStageWard)]
    public void MaxPointsIsTheLastCountTheChoiceAccepts(LinkageMethod method, int dimension, long budget, ClusteringAlgorithm? requested)
    {
        var limit = ClusteringAlgorithmChoice.MaxPoints(dimension, method, budget, requested);
        ClusteringAlgorithmChoice.For(limit, dimension, method, budget, requested);
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(limit + 1, dimension, method, budget, requested));
    }

    [Fact]
    public void WardThatFitsNothingIsRefused()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(1_000_000, 4096, LinkageMethod.Ward, 64L << 20));
        Assert.Contains("Raise the clustering memory budget", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(1, 4, LinkageMethod.Ward));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(10, 0, LinkageMethod.Ward));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(10, 4, (LinkageMethod)42));
        Assert.Throws<InvalidClusteringInputException>(() => ClusteringAlgorithmChoice.For(10, 4, LinkageMethod.Ward, 1000));
    }
}
