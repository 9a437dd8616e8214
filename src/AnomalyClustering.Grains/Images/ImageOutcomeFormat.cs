using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AnomalyClustering.Grains.Images;

/// <summary>
/// The blob an image grain leaves behind after weighting: its image embedding x_i, its patch weights alpha and its anomaly
/// score, so that a coordinator restarted mid-job reads them back instead of recomputing. Layout (little-endian): magic
/// <c>ACIO</c>, version 2, T, M, then T + M floats, then the anomaly score as a double (NaN: none), then CRC-32 of
/// everything before it. Version 1 (no score) is still read, with no score.
/// </summary>
internal static class ImageOutcomeFormat
{
    private const uint Magic = 0x4F494341; // "ACIO"
    private const int Version = 2;
    private const int VersionWithoutScore = 1;
    private const int HeaderSize = 16;

    public static byte[] ToBytes(ReadOnlySpan<float> embedding, ReadOnlySpan<float> weights, double? anomalyScore)
    {
        var floatBytes = (embedding.Length + weights.Length) * sizeof(float);
        var bytes = new byte[HeaderSize + floatBytes + sizeof(double) + sizeof(uint)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], embedding.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], weights.Length);
        var body = span[HeaderSize..];
        MemoryMarshal.AsBytes(embedding).CopyTo(body);
        MemoryMarshal.AsBytes(weights).CopyTo(body[(embedding.Length * sizeof(float))..]);
        BinaryPrimitives.WriteDoubleLittleEndian(body[floatBytes..], anomalyScore ?? double.NaN);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.HashToUInt32(span[..^4]));
        return bytes;
    }

    /// <exception cref="InvalidDataException">The bytes are not a valid outcome.</exception>
    public static (float[] Embedding, float[] Weights, double? AnomalyScore) FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize + sizeof(uint) || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not an image outcome blob (bad magic or too short).");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (version is not (Version or VersionWithoutScore))
        {
            throw new InvalidDataException($"image outcome version {version} is not supported.");
        }
        var t = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var m = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var scoreBytes = version == Version ? sizeof(double) : 0;
        if (t < 0 || m < 0 || bytes.Length != HeaderSize + ((long)t + m) * sizeof(float) + scoreBytes + sizeof(uint))
        {
            throw new InvalidDataException("image outcome blob has the wrong length.");
        }
        if (Crc32.HashToUInt32(bytes[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]))
        {
            throw new InvalidDataException("image outcome blob fails its checksum.");
        }
        var body = bytes[HeaderSize..^4];
        var embedding = MemoryMarshal.Cast<byte, float>(body[..(t * sizeof(float))]).ToArray();
        var weights = MemoryMarshal.Cast<byte, float>(body[(t * sizeof(float))..((t + m) * sizeof(float))]).ToArray();
        double? score = null;
        if (scoreBytes > 0)
        {
            var stored = BinaryPrimitives.ReadDoubleLittleEndian(body[((t + m) * sizeof(float))..]);
            score = double.IsNaN(stored) ? null : stored;
        }
        return (embedding, weights, score);
    }
}
