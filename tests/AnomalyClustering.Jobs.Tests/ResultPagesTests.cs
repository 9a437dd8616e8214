using System.Buffers;
using System.Text;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>
/// The result pages' bytes and bucket numbers do not depend on how they are produced: a page written into a reused buffer
/// is the page <see cref="ResultPages.ToJson"/> makes, and an id's bucket is the FNV-1a hash of its UTF-8 bytes whether
/// they fit on the stack or not (readers of results written before find their images in the same buckets).
/// </summary>
public sealed class ResultPagesTests
{
    [Fact]
    public void APageWrittenIntoAReusedBufferIsTheBytesOfItsJson()
    {
        ResultImageEntry[] first = [new(0, "a.png", 1, "good", 0.25, 3.5, 7, new string('f', 64)), new(1, "b \"ü\".png", 0, null, null, null, null)];
        ResultImageEntry[] second = [new(5, "c.png", 2, "scratch", 1e-9, -0.0, 0)];
        var buffer = new ArrayBufferWriter<byte>();

        ResultPages.WriteJson(buffer, first);
        Assert.Equal(ResultPages.ToJson(first), buffer.WrittenSpan.ToArray());
        // Reused: the second page's bytes replace the first's.
        buffer.ResetWrittenCount();
        ResultPages.WriteJson(buffer, second);
        Assert.Equal(ResultPages.ToJson(second), buffer.WrittenSpan.ToArray());
        Assert.Equal(second, ResultPages.FromJson<ResultImageEntry>(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("img-0000001", 1000)]
    [InlineData("images/good/000.png", 7)]
    [InlineData("défaut/ünïcode/画像.png", 1000)]
    [InlineData("", 3)]
    [InlineData("a lone surrogate \ud800 here", 97)]
    public void AnIdsBucketIsTheHashOfItsUtf8Bytes(string id, int buckets)
    {
        Assert.Equal(ReferenceBucket(id, buckets), ResultPages.BucketOf(id, buckets));
    }

    [Fact]
    public void AnIdTooLongForTheStackHasTheSameBucket()
    {
        // 300 three-byte characters: 900 bytes, past the 256-byte stack buffer.
        var id = string.Concat(Enumerable.Repeat("画", 300)) + "/x.png";

        Assert.Equal(ReferenceBucket(id, 1000), ResultPages.BucketOf(id, 1000));
    }

    /// <summary>64-bit FNV-1a of the id's UTF-8 bytes modulo the count, from a byte array: how buckets were numbered before.</summary>
    private static int ReferenceBucket(string id, int bucketCount)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(id))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return (int)(hash % (ulong)bucketCount);
    }
}
