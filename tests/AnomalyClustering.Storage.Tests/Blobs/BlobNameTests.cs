namespace AnomalyClustering.Storage.Tests.Blobs;

/// <summary>The naming rules: what passes, what is refused, and that the refusal says why.</summary>
public sealed class BlobNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("images/job-1/0001.png")]
    [InlineData("features/v1/ab/abcdef.bag")]
    [InlineData(".hidden/..dots../x")]
    [InlineData("space and ünïcode/€.png")]
    public void ValidNamesPass(string name) => BlobName.Validate(name);

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/a", "starts with '/'")]
    [InlineData("a/", "ends with '/'")]
    [InlineData("a//b", "empty segment")]
    [InlineData("..", "'..' segment")]
    [InlineData("a/../b", "'..' segment")]
    [InlineData("./a", "'.' segment")]
    [InlineData("a\\b", "'\\'")]
    [InlineData("a\tb", "U+0009")]
    public void InvalidNamesSayWhichRuleTheyBreak(string name, string rule)
    {
        var error = Assert.Throws<InvalidBlobNameException>(() => BlobName.Validate(name));
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
        Assert.Equal(name, error.RejectedName);
    }

    [Fact]
    public void LengthLimitsCountCharactersAndSegmentBytes()
    {
        // Exactly 1024 characters, three segments of exactly 255 bytes.
        var longest = string.Join('/', Enumerable.Repeat(new string('n', 255), 3)) + "/" + new string('n', 254) + "/n";
        Assert.Equal(1024, longest.Length);
        BlobName.Validate(longest);
        Assert.Throws<InvalidBlobNameException>(() => BlobName.Validate(new string('n', 1025)));
        // 128 two-byte characters: 256 UTF-8 bytes in one segment.
        var error = Assert.Throws<InvalidBlobNameException>(() => BlobName.Validate("a/" + new string('é', 128)));
        Assert.Contains("255 UTF-8 bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("img")]
    [InlineData("img/")]
    [InlineData("img/a.")]
    [InlineData("img/.")]
    public void PrefixesMayEndInsideASegment(string prefix) => BlobName.ValidatePrefix(prefix);

    [Theory]
    [InlineData("/img")]
    [InlineData("../")]
    [InlineData("a//")]
    [InlineData("a/../b")]
    public void PrefixesCannotEscapeOrBeAbsolute(string prefix) =>
        Assert.Throws<InvalidBlobNameException>(() => BlobName.ValidatePrefix(prefix));
}
