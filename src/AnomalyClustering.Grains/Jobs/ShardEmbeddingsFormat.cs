using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>The usable images of one shard: their indices in the job, their embeddings x_i (row-major), anomaly scores and content hashes.</summary>
/// <param name="ImageIndices">Job image indices, ascending.</param>
/// <param name="Dimension">T, floats per embedding (0 when the shard has no usable image).</param>
/// <param name="Embeddings">Count x T floats, row-major in the order of <paramref name="ImageIndices"/>.</param>
/// <param name="AnomalyScores">One per image; NaN where the image has none (average mode).</param>
/// <param name="ContentHashes">One per image: the SHA-256 of its file (64 hex digits), null where unknown; null for none known.</param>
internal sealed record ShardEmbeddings(int[] ImageIndices, int Dimension, float[] Embeddings, double[] AnomalyScores, string?[]? ContentHashes = null);

/// <summary>What <see cref="ShardEmbeddingsFormat.ReadIntoAsync"/> returns of a shard blob: all but the embeddings, which went to the caller's matrix.</summary>
/// <param name="ImageIndices">Each row's image index in the job.</param>
/// <param name="Dimension">D.</param>
/// <param name="AnomalyScores">Each row's anomaly score (NaN when the mode has none).</param>
/// <param name="ContentHashes">Each row's image file SHA-256 (64 hex digits), null where unknown (and in version 1 blobs).</param>
internal sealed record ShardColumns(int[] ImageIndices, int Dimension, double[] AnomalyScores, string?[] ContentHashes);

/// <summary>
/// The columnar blob a shard writes when all its images are done, so that the clustering stage reads one blob per shard
/// instead of one per image. Layout (little-endian): magic <c>ACSE</c>, version 2, count, T, then count int32 image
/// indices, count x T float32 embeddings, count float64 scores (NaN: none), count x 32 bytes of image SHA-256 (all zero:
/// unknown), then CRC-32 of everything before it. Version 1 (no hashes) is still read.
/// </summary>
internal static class ShardEmbeddingsFormat
{
    private const uint Magic = 0x45534341; // "ACSE"
    private const int Version = 2;
    private const int VersionWithoutHashes = 1;
    private const int HeaderSize = 16;
    private const int HashLength = 32;

    public static byte[] ToBytes(ShardEmbeddings shard)
    {
        var count = shard.ImageIndices.Length;
        if (shard.Embeddings.Length != (long)count * shard.Dimension || shard.AnomalyScores.Length != count || (shard.ContentHashes is { } given && given.Length != count))
        {
            throw new ArgumentException("the embeddings, scores and hashes do not match the image count.", nameof(shard));
        }
        var bytes = new byte[HeaderSize + (count * sizeof(int)) + (shard.Embeddings.Length * sizeof(float)) + (count * sizeof(double)) + (count * HashLength) + sizeof(uint)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], count);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], shard.Dimension);
        var body = span[HeaderSize..];
        MemoryMarshal.AsBytes(shard.ImageIndices.AsSpan()).CopyTo(body);
        body = body[(count * sizeof(int))..];
        MemoryMarshal.AsBytes(shard.Embeddings.AsSpan()).CopyTo(body);
        body = body[(shard.Embeddings.Length * sizeof(float))..];
        MemoryMarshal.AsBytes(shard.AnomalyScores.AsSpan()).CopyTo(body);
        body = body[(count * sizeof(double))..];
        for (var i = 0; i < count; i++)
        {
            if (shard.ContentHashes?[i] is not { } hash)
            {
                continue;
            }
            var raw = hash.Length == 2 * HashLength ? Convert.FromHexString(hash) : [];
            if (raw.Length != HashLength)
            {
                throw new ArgumentException($"content hash '{hash}' is not a SHA-256 (64 hex digits).", nameof(shard));
            }
            raw.CopyTo(body[(i * HashLength)..]);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.HashToUInt32(span[..^4]));
        return bytes;
    }

    /// <summary>
    /// Reads a shard blob from <paramref name="stream"/> with its embeddings copied straight into the memory
    /// <paramref name="embeddingsTarget"/> gives for (rows, D): the clustering stage fills its N x D matrix this way, without
    /// a byte array and a float array per shard (4 MB each at 4,096 x 256: 2 GB of large-object garbage at a million images).
    /// </summary>
    /// <exception cref="InvalidDataException">The blob is not a shard embeddings blob, is cut short or too long, or fails its checksum.</exception>
    public static async Task<ShardColumns> ReadIntoAsync(Stream stream, Func<int, int, Memory<float>> embeddingsTarget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(embeddingsTarget);
        var crc = new Crc32();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var header = new byte[HeaderSize];
            await ReadExactlyAsync(stream, header, crc, cancellationToken).ConfigureAwait(false);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            {
                throw new InvalidDataException("not a shard embeddings blob (bad magic or too short).");
            }
            var version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            if (version is not (Version or VersionWithoutHashes))
            {
                throw new InvalidDataException("shard embeddings version is not supported.");
            }
            var count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
            var dimension = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
            if (count < 0 || dimension < 0 || (long)count * dimension > Array.MaxLength)
            {
                throw new InvalidDataException("shard embeddings blob has the wrong length.");
            }
            var indices = new int[count];
            await ReadExactlyAsync(stream, MemoryMarshal.AsBytes(indices.AsSpan()).Length, buffer, crc, (piece, offset) => piece.Span.CopyTo(MemoryMarshal.AsBytes(indices.AsSpan())[offset..]), cancellationToken).ConfigureAwait(false);
            var target = count == 0 ? Memory<float>.Empty : embeddingsTarget(count, dimension);
            if (target.Length != count * dimension)
            {
                throw new ArgumentException($"the target holds {target.Length} floats; the shard has {count} x {dimension}.", nameof(embeddingsTarget));
            }
            await ReadExactlyAsync(stream, target.Length * sizeof(float), buffer, crc, (piece, offset) => piece.Span.CopyTo(MemoryMarshal.AsBytes(target.Span)[offset..]), cancellationToken).ConfigureAwait(false);
            var scores = new double[count];
            await ReadExactlyAsync(stream, count * sizeof(double), buffer, crc, (piece, offset) => piece.Span.CopyTo(MemoryMarshal.AsBytes(scores.AsSpan())[offset..]), cancellationToken).ConfigureAwait(false);
            var hashes = new string?[count];
            if (version == Version)
            {
                var raw = new byte[count * HashLength];
                await ReadExactlyAsync(stream, raw.Length, buffer, crc, (piece, offset) => piece.Span.CopyTo(raw.AsSpan(offset)), cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < count; i++)
                {
                    var hash = raw.AsSpan(i * HashLength, HashLength);
                    hashes[i] = hash.ContainsAnyExcept((byte)0) ? Convert.ToHexStringLower(hash) : null;
                }
            }
            var expected = crc.GetCurrentHashAsUInt32();
            var trailer = new byte[sizeof(uint)];
            await ReadExactlyAsync(stream, trailer, crc: null, cancellationToken).ConfigureAwait(false);
            if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) != expected)
            {
                throw new InvalidDataException("shard embeddings blob fails its checksum.");
            }
            if (await stream.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidDataException("shard embeddings blob has the wrong length.");
            }
            return new ShardColumns(indices, dimension, scores, hashes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] target, Crc32? crc, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(target, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("shard embeddings blob has the wrong length.", e);
        }
        crc?.Append(target);
    }

    // Reads length bytes through the pooled buffer, handing each piece and its offset to copy.
    private static async Task ReadExactlyAsync(Stream stream, int length, byte[] buffer, Crc32 crc, Action<ReadOnlyMemory<byte>, int> copy, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < length;)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, length - offset)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new InvalidDataException("shard embeddings blob has the wrong length.");
            }
            crc.Append(buffer.AsSpan(0, read));
            copy(buffer.AsMemory(0, read), offset);
            offset += read;
        }
    }

}
