using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests;

/// <summary>Messages a person reads end in words, not in .NET's " (Parameter 'x')" or an empty "()".</summary>
public class UserMessageTests
{
    [Fact]
    public void InvalidInputMessageHasNoParameterTail()
    {
        var error = Assert.Throws<InvalidClusteringInputException>(() => Guard.Finite([1f, float.NaN], "points"));

        Assert.DoesNotContain("(Parameter", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(".", error.Message.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void WrappingTheMessageAgainAddsNoTail()
    {
        // The CLI's embedded cluster and the grains pass e.Message on with the field: once through each hop.
        var first = new InvalidClusteringInputException("k must be at most the number of images.", "k");
        var second = new InvalidClusteringInputException(first.Message, first.ParamName);

        Assert.Equal("k must be at most the number of images.", second.Message);
        Assert.Equal("k", second.ParamName);
    }

    [Fact]
    public void NoDetailGivesNoEmptyParentheses()
    {
        Assert.Equal(string.Empty, MessageParts.InParentheses(null));
        Assert.Equal(string.Empty, MessageParts.InParentheses(" "));
        Assert.Equal(" (bad header)", MessageParts.InParentheses("bad header"));
    }
}
