using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AnomalyClustering.Grains.Images;

/// <summary>
/// The blob an image grain leaves behind after weighting: its image embedding x_i, its patch weights alpha, its raw patch
/// scores s_ik and its anomaly score, so that a coordinator restarted mid-job reads them back instead of recomputing, and
/// pixel metrics can make the image's anomaly map. Layout (little-endian): magic <c>ACIO</c>, version 3, T, M, S (patch
/// scores: M, or 0 in the average mode), then T + M + S floats, then the anomaly score as a double (NaN: none), then CRC-32
/// of everything before it. Version 2 (no patch scores: no S) and version 1 (no anomaly score either) are still read.
/// </summary>
internal static class ImageOutcomeFormat
{
    private const uint Magic = 0x4F494341; // "ACIO"
    private const int Version = 3;
    private const int VersionWithoutPatchScores = 2;
    private const int VersionWithoutScore = 1;

    public static byte[] ToBytes(ReadOnlySpan<float> embedding, ReadOnlySpan<float> weights, double? anomalyScore, ReadOnlySpan<float> patchScores = default)
    {
        const int headerSize = 20;
        var floatBytes = (embedding.Length + weights.Length + patchScores.Length) * sizeof(float);
        var bytes = new byte[headerSize + floatBytes + sizeof(double) + sizeof(uint)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], embedding.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], weights.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], patchScores.Length);
        var body = span[headerSize..];
        MemoryMarshal.AsBytes(embedding).CopyTo(body);
        MemoryMarshal.AsBytes(weights).CopyTo(body[(embedding.Length * sizeof(float))..]);
        MemoryMarshal.AsBytes(patchScores).CopyTo(body[((embedding.Length + weights.Length) * sizeof(float))..]);
        BinaryPrimitives.WriteDoubleLittleEndian(body[floatBytes..], anomalyScore ?? double.NaN);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.HashToUInt32(span[..^4]));
        return bytes;
    }

    /// <exception cref="InvalidDataException">The bytes are not a valid outcome.</exception>
    public static (float[] Embedding, float[] Weights, double? AnomalyScore) FromBytes(ReadOnlySpan<byte> bytes)
    {
        var outcome = Parse(bytes);
        return (outcome.Embedding, outcome.Weights, outcome.AnomalyScore);
    }

    /// <summary>The raw patch scores s_ik (row-major on the patch grid), or null when the blob has none (average mode, or written before version 3).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid outcome.</exception>
    public static float[]? PatchScoresFromBytes(ReadOnlySpan<byte> bytes) => Parse(bytes).PatchScores;

    private static (float[] Embedding, float[] Weights, float[]? PatchScores, double? AnomalyScore) Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 + sizeof(uint) || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not an image outcome blob (bad magic or too short).");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (version is not (Version or VersionWithoutPatchScores or VersionWithoutScore))
        {
            throw new InvalidDataException($"image outcome version {version} is not supported.");
        }
        var headerSize = version == Version ? 20 : 16;
        if (bytes.Length < headerSize + sizeof(uint))
        {
            throw new InvalidDataException("image outcome blob has the wrong length.");
        }
        var t = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var m = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var s = version == Version ? BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]) : 0;
        var scoreBytes = version == VersionWithoutScore ? 0 : sizeof(double);
        if (t < 0 || m < 0 || s < 0 || bytes.Length != headerSize + ((long)t + m + s) * sizeof(float) + scoreBytes + sizeof(uint))
        {
            throw new InvalidDataException("image outcome blob has the wrong length.");
        }
        if (Crc32.HashToUInt32(bytes[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]))
        {
            throw new InvalidDataException("image outcome blob fails its checksum.");
        }
        var floats = MemoryMarshal.Cast<byte, float>(bytes[headerSize..(headerSize + (t + m + s) * sizeof(float))]);
        var embedding = floats[..t].ToArray();
        var weights = floats[t..(t + m)].ToArray();
        var patchScores = s > 0 ? floats[(t + m)..].ToArray() : null;
        double? score = null;
        if (scoreBytes > 0)
        {
            var stored = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(headerSize + (t + m + s) * sizeof(float))..]);
            score = double.IsNaN(stored) ? null : stored;
        }
        return (embedding, weights, patchScores, score);
    }
}
