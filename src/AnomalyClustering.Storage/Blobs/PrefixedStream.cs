namespace AnomalyClustering.Storage;

/// <summary>
/// A read-only, forward-only stream of <c>prefix</c> followed by the rest of <c>rest</c>: what was already read from a
/// stream, put back in front of it. Disposing it disposes the prefix only; <c>rest</c> belongs to the caller.
/// </summary>
public sealed class PrefixedStream(Stream prefix, Stream rest) : Stream
{
    private bool _prefixDone;

    /// <summary>
    /// Reads <paramref name="content"/> until it ends or more than <paramref name="maxBytes"/> have been read. Complete: the
    /// head is the whole stream. Otherwise the head is its beginning, and <c>new PrefixedStream(head, content)</c> the whole.
    /// </summary>
    public static async Task<(MemoryStream Head, bool Complete)> ReadHeadAsync(Stream content, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var head = new MemoryStream();
        var chunk = new byte[81920];
        while (head.Length <= maxBytes)
        {
            // Never more than one byte past the limit: complete means the stream ended within maxBytes, exactly.
            var wanted = (int)Math.Min(chunk.Length, maxBytes + 1L - head.Length);
            var read = await content.ReadAsync(chunk.AsMemory(0, wanted), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                head.Position = 0;
                return (head, true);
            }
            head.Write(chunk, 0, read);
        }
        head.Position = 0;
        return (head, false);
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        if (!_prefixDone)
        {
            var read = prefix.Read(buffer);
            if (read > 0 || buffer.IsEmpty)
            {
                return read;
            }
            _prefixDone = true;
        }
        return rest.Read(buffer);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_prefixDone)
        {
            var read = await prefix.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0 || buffer.IsEmpty)
            {
                return read;
            }
            _prefixDone = true;
        }
        return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            prefix.Dispose();
        }
        base.Dispose(disposing);
    }
}
