using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Storage;

/// <summary>
/// The binary form of a cached <see cref="PatchBag"/>, versioned and checksummed. All integers little-endian:
/// <code>
/// offset  size  field
///      0     4  magic "ACPB"
///      4     4  format version (1)
///      8     4  grid height H (>= 1)
///     12     4  grid width W (>= 1)
///     16     4  dimension T (>= 1)
///     20     4  payload encoding (1 = float32 little-endian)
///     24     8  payload length in bytes (= H * W * T * 4)
///     32     N  the embeddings, row-major as in PatchBag.Data
///   32+N     4  CRC-32 (IEEE 802.3, as zlib's crc32) of bytes [0, 32+N)
/// </code>
/// Nothing may follow the checksum. Reading checks every field and throws <see cref="FeatureCacheFormatException"/>
/// on the first that is wrong. Cost: O(N) time, streamed through one pooled 64 KiB buffer.
/// </summary>
public static class PatchBagFormat
{
    /// <summary>The current (and only) format version.</summary>
    public const int Version = 1;

    /// <summary>Bytes before the payload.</summary>
    public const int HeaderSize = 32;

    /// <summary>Bytes after the payload (the checksum).</summary>
    public const int TrailerSize = 4;

    private const uint Float32LittleEndian = 1;
    private const int ChunkBytes = 64 * 1024;
    private static ReadOnlySpan<byte> Magic => "ACPB"u8;

    /// <summary>The encoded size of a bag of <paramref name="gridHeight"/> x <paramref name="gridWidth"/> patches of <paramref name="dimension"/> floats.</summary>
    public static long EncodedLength(int gridHeight, int gridWidth, int dimension) =>
        HeaderSize + (long)gridHeight * gridWidth * dimension * sizeof(float) + TrailerSize;

    /// <summary>Writes <paramref name="bag"/> to <paramref name="destination"/>.</summary>
    public static void Write(PatchBag bag, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(bag);
        ArgumentNullException.ThrowIfNull(destination);
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[HeaderSize];
        EncodeHeader(bag, header);
        crc.Append(header);
        destination.Write(header);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var payloadBytes = (long)bag.Data.Length * sizeof(float);
            for (long offset = 0; offset < payloadBytes; offset += ChunkBytes)
            {
                var chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, payloadBytes - offset));
                EncodePayloadChunk(bag.Data, offset, chunk);
                crc.Append(chunk);
                destination.Write(chunk);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Span<byte> trailer = stackalloc byte[TrailerSize];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.GetCurrentHashAsUInt32());
        destination.Write(trailer);
    }

    /// <summary>Writes <paramref name="bag"/> to <paramref name="destination"/> asynchronously.</summary>
    public static async Task WriteAsync(PatchBag bag, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bag);
        ArgumentNullException.ThrowIfNull(destination);
        var crc = new Crc32();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            EncodeHeader(bag, buffer.AsSpan(0, HeaderSize));
            crc.Append(buffer.AsSpan(0, HeaderSize));
            await destination.WriteAsync(buffer.AsMemory(0, HeaderSize), cancellationToken).ConfigureAwait(false);
            var payloadBytes = (long)bag.Data.Length * sizeof(float);
            for (long offset = 0; offset < payloadBytes; offset += ChunkBytes)
            {
                var length = (int)Math.Min(ChunkBytes, payloadBytes - offset);
                EncodePayloadChunk(bag.Data, offset, buffer.AsSpan(0, length));
                crc.Append(buffer.AsSpan(0, length));
                await destination.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, crc.GetCurrentHashAsUInt32());
            await destination.WriteAsync(buffer.AsMemory(0, TrailerSize), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The encoded bytes of <paramref name="bag"/>.</summary>
    public static byte[] ToBytes(PatchBag bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        // Written straight into the returned array: ToArray would copy the whole bag again.
        var bytes = new byte[checked((int)EncodedLength(bag.GridHeight, bag.GridWidth, bag.Dimension))];
        using var memory = new MemoryStream(bytes);
        Write(bag, memory);
        return bytes;
    }

    /// <summary>Reads one bag from <paramref name="source"/>, which must end right after it.</summary>
    /// <exception cref="FeatureCacheFormatException">Wrong magic, unknown version or encoding, impossible sizes, truncated data, checksum mismatch, or trailing bytes.</exception>
    public static PatchBag Read(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[HeaderSize];
        ReadExactly(source, header, "header", 0);
        crc.Append(header);
        var (gridHeight, gridWidth, dimension, payloadBytes) = DecodeHeader(header, source);
        var data = new float[payloadBytes / sizeof(float)];
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long offset = 0; offset < payloadBytes; offset += ChunkBytes)
            {
                var chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, payloadBytes - offset));
                ReadExactly(source, chunk, "payload", HeaderSize + offset);
                crc.Append(chunk);
                DecodePayloadChunk(chunk, data, offset);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Span<byte> trailer = stackalloc byte[TrailerSize + 1];
        ReadExactly(source, trailer[..TrailerSize], "checksum", HeaderSize + payloadBytes);
        CheckTrailer(trailer, crc, source.Read(trailer[TrailerSize..]) > 0);
        return new PatchBag(data, gridHeight, gridWidth, dimension);
    }

    /// <summary>Reads one bag from <paramref name="source"/> asynchronously; it must end right after the bag.</summary>
    /// <exception cref="FeatureCacheFormatException">As <see cref="Read"/>.</exception>
    public static async Task<PatchBag> ReadAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var crc = new Crc32();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            await ReadExactlyAsync(source, buffer.AsMemory(0, HeaderSize), "header", 0, cancellationToken).ConfigureAwait(false);
            crc.Append(buffer.AsSpan(0, HeaderSize));
            var (gridHeight, gridWidth, dimension, payloadBytes) = DecodeHeader(buffer.AsSpan(0, HeaderSize), source);
            var data = new float[payloadBytes / sizeof(float)];
            for (long offset = 0; offset < payloadBytes; offset += ChunkBytes)
            {
                var length = (int)Math.Min(ChunkBytes, payloadBytes - offset);
                await ReadExactlyAsync(source, buffer.AsMemory(0, length), "payload", HeaderSize + offset, cancellationToken).ConfigureAwait(false);
                crc.Append(buffer.AsSpan(0, length));
                DecodePayloadChunk(buffer.AsSpan(0, length), data, offset);
            }
            await ReadExactlyAsync(source, buffer.AsMemory(0, TrailerSize), "checksum", HeaderSize + payloadBytes, cancellationToken).ConfigureAwait(false);
            var trailing = await source.ReadAsync(buffer.AsMemory(TrailerSize, 1), cancellationToken).ConfigureAwait(false) > 0;
            CheckTrailer(buffer.AsSpan(0, TrailerSize + 1), crc, trailing);
            return new PatchBag(data, gridHeight, gridWidth, dimension);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads one bag from its encoded bytes.</summary>
    /// <exception cref="FeatureCacheFormatException">As <see cref="Read"/>.</exception>
    public static PatchBag FromBytes(ReadOnlyMemory<byte> bytes)
    {
        using var stream = MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        return Read(stream);
    }

    private static void EncodeHeader(PatchBag bag, Span<byte> header)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], bag.GridHeight);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], bag.GridWidth);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], bag.Dimension);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Float32LittleEndian);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], (long)bag.Data.Length * sizeof(float));
    }

    private static (int GridHeight, int GridWidth, int Dimension, long PayloadBytes) DecodeHeader(ReadOnlySpan<byte> header, Stream source)
    {
        if (!header[..4].SequenceEqual(Magic))
        {
            throw new FeatureCacheFormatException(
                $"Not a cached patch bag: the data starts with bytes {Convert.ToHexString(header[..4])}, not the magic 'ACPB' ({Convert.ToHexString(Magic)}).");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (version != Version)
        {
            throw new FeatureCacheFormatException(
                $"Cached patch bag has format version {version}; this build reads version {Version}. Recompute the features (delete the cache entry) or use a matching build.");
        }
        var gridHeight = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        var gridWidth = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        var dimension = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var encoding = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        var payloadBytes = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        if (encoding != Float32LittleEndian)
        {
            throw new FeatureCacheFormatException($"Cached patch bag has payload encoding {encoding}; version {Version} knows only 1 (float32 little-endian).");
        }
        if (gridHeight < 1 || gridWidth < 1 || dimension < 1)
        {
            throw new FeatureCacheFormatException($"Cached patch bag header is corrupt: grid {gridHeight} x {gridWidth}, dimension {dimension} (all must be at least 1).");
        }
        var values = (long)gridHeight * gridWidth * dimension;
        if (values > Array.MaxLength || payloadBytes != values * sizeof(float))
        {
            throw new FeatureCacheFormatException(
                $"Cached patch bag header is corrupt: grid {gridHeight} x {gridWidth} x dimension {dimension} needs {values * sizeof(float)} payload bytes "
                + $"(at most {(long)Array.MaxLength * sizeof(float)}), the header says {payloadBytes}.");
        }
        if (source.CanSeek)
        {
            // Catch truncation before allocating the payload array.
            var remaining = source.Length - source.Position;
            if (remaining < payloadBytes + TrailerSize)
            {
                throw Truncated("payload", HeaderSize + payloadBytes + TrailerSize, HeaderSize + remaining);
            }
        }
        return (gridHeight, gridWidth, dimension, payloadBytes);
    }

    private static void EncodePayloadChunk(float[] data, long byteOffset, Span<byte> chunk)
    {
        var source = MemoryMarshal.AsBytes(data.AsSpan()).Slice((int)byteOffset, chunk.Length);
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(chunk);
        }
        else
        {
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(source), MemoryMarshal.Cast<byte, int>(chunk));
        }
    }

    private static void DecodePayloadChunk(ReadOnlySpan<byte> chunk, float[] data, long byteOffset)
    {
        // Chunks are multiples of 4 bytes, so each starts on a float boundary.
        var destination = MemoryMarshal.AsBytes(data.AsSpan()).Slice((int)byteOffset, chunk.Length);
        if (BitConverter.IsLittleEndian)
        {
            chunk.CopyTo(destination);
        }
        else
        {
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(chunk), MemoryMarshal.Cast<byte, int>(destination));
        }
    }

    private static void CheckTrailer(ReadOnlySpan<byte> trailer, Crc32 crc, bool trailingBytes)
    {
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var computed = crc.GetCurrentHashAsUInt32();
        if (stored != computed)
        {
            throw new FeatureCacheFormatException(
                $"Cached patch bag is corrupt: its CRC-32 is {stored:x8} but the data gives {computed:x8}. Delete the entry; it will be recomputed.");
        }
        if (trailingBytes)
        {
            throw new FeatureCacheFormatException("Cached patch bag has bytes after its checksum; the entry is not one bag. Delete it; it will be recomputed.");
        }
    }

    private static void ReadExactly(Stream source, Span<byte> destination, string part, long position)
    {
        var read = source.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
        {
            throw Truncated(part, position + destination.Length, position + read);
        }
    }

    private static async ValueTask ReadExactlyAsync(Stream source, Memory<byte> destination, string part, long position, CancellationToken cancellationToken)
    {
        var read = await source.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < destination.Length)
        {
            throw Truncated(part, position + destination.Length, position + read);
        }
    }

    private static FeatureCacheFormatException Truncated(string part, long needed, long available) =>
        new($"Cached patch bag is truncated in its {part}: it needs at least {needed} bytes, the data ends after {available}. "
            + "An interrupted write or a cut download; delete the entry and it will be recomputed.");
}
