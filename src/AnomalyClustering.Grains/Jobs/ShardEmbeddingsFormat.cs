using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>The usable images of one shard: their indices in the job, their embeddings x_i (row-major) and anomaly scores.</summary>
/// <param name="ImageIndices">Job image indices, ascending.</param>
/// <param name="Dimension">T, floats per embedding (0 when the shard has no usable image).</param>
/// <param name="Embeddings">Count x T floats, row-major in the order of <paramref name="ImageIndices"/>.</param>
/// <param name="AnomalyScores">One per image; NaN where the image has none (average mode).</param>
internal sealed record ShardEmbeddings(int[] ImageIndices, int Dimension, float[] Embeddings, double[] AnomalyScores);

/// <summary>
/// The columnar blob a shard writes when all its images are done, so that the clustering stage reads one blob per shard
/// instead of one per image. Layout (little-endian): magic <c>ACSE</c>, version 1, count, T, then count int32 image
/// indices, count x T float32 embeddings, count float64 scores (NaN: none), then CRC-32 of everything before it.
/// </summary>
internal static class ShardEmbeddingsFormat
{
    private const uint Magic = 0x45534341; // "ACSE"
    private const int Version = 1;
    private const int HeaderSize = 16;

    public static byte[] ToBytes(ShardEmbeddings shard)
    {
        var count = shard.ImageIndices.Length;
        if (shard.Embeddings.Length != (long)count * shard.Dimension || shard.AnomalyScores.Length != count)
        {
            throw new ArgumentException("the embeddings and scores do not match the image count.", nameof(shard));
        }
        var bytes = new byte[HeaderSize + (count * sizeof(int)) + (shard.Embeddings.Length * sizeof(float)) + (count * sizeof(double)) + sizeof(uint)];
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
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.HashToUInt32(span[..^4]));
        return bytes;
    }

    /// <exception cref="InvalidDataException">The bytes are not a valid shard embeddings blob.</exception>
    public static ShardEmbeddings FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize + sizeof(uint) || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not a shard embeddings blob (bad magic or too short).");
        }
        if (BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]) != Version)
        {
            throw new InvalidDataException("shard embeddings version is not supported.");
        }
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var dimension = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        if (count < 0 || dimension < 0
            || bytes.Length != HeaderSize + (count * (long)sizeof(int)) + ((long)count * dimension * sizeof(float)) + (count * (long)sizeof(double)) + sizeof(uint))
        {
            throw new InvalidDataException("shard embeddings blob has the wrong length.");
        }
        if (Crc32.HashToUInt32(bytes[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]))
        {
            throw new InvalidDataException("shard embeddings blob fails its checksum.");
        }
        var body = bytes[HeaderSize..^4];
        var indices = MemoryMarshal.Cast<byte, int>(body[..(count * sizeof(int))]).ToArray();
        body = body[(count * sizeof(int))..];
        var embeddings = MemoryMarshal.Cast<byte, float>(body[..(count * dimension * sizeof(float))]).ToArray();
        body = body[(count * dimension * sizeof(float))..];
        var scores = MemoryMarshal.Cast<byte, double>(body).ToArray();
        return new ShardEmbeddings(indices, dimension, embeddings, scores);
    }
}
