using Azure;

namespace AnomalyClustering.Storage;

/// <summary>
/// The SDK's ranged read stream of <see cref="AzureBlobStore.OpenSeekableReadAsync"/>, with the store's typed errors
/// (<paramref name="failure"/>) for a ranged GET that fails mid-read (a blob deleted meanwhile is a
/// <see cref="BlobNotFoundException"/>, which a reader of the decision log reads again), and reads that fill the caller's
/// buffer: the SDK's stream answers at most what its buffer holds, and a reader that takes a short read for the end of a
/// column chunk would see a truncated file.
/// </summary>
/// <param name="inner">The SDK's stream (seekable, read-only).</param>
/// <param name="failure">The typed error for an exception of the SDK.</param>
internal sealed class AzureSeekableReadStream(Stream inner, Func<Exception, BlobStoreException> failure) : Stream
{
    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => true;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => inner.Length;

    /// <inheritdoc />
    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var read = inner.Read(buffer[total..]);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw failure(e);
        }
        return total;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var read = await inner.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw failure(e);
        }
        return total;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
