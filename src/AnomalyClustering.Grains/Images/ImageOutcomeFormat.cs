using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AnomalyClustering.Grains.Images;

/// <summary>
/// The blob an image grain leaves behind after weighting: its image embedding x_i, its patch weights alpha, its raw patch
/// scores s_ik and its anomaly score, so that a coordinator restarted mid-job reads them back instead of recomputing, and
/// pixel metrics can make the image's anomaly map, and the SHA-256 of the image file the grain read, so that thumbnails are
/// found by it without reading the image again. Layout (little-endian): magic <c>ACIO</c>, version 4, T, M, S (patch
/// scores: M, or 0 in the average mode), H (hash bytes: 32, or 0 when unknown), then T + M + S floats, then the anomaly
/// score as a double (NaN: none), then H hash bytes, then CRC-32 of everything before it. Version 3 (no H and no hash),
/// version 2 (no patch scores: no S either) and version 1 (no anomaly score either) are still read.
/// </summary>
internal static class ImageOutcomeFormat
{
    private const uint Magic = 0x4F494341; // "ACIO"
    private const int Version = 4;
    private const int VersionWithoutHash = 3;
    private const int VersionWithoutPatchScores = 2;
    private const int VersionWithoutScore = 1;

    /// <summary>The SHA-256 of an image file is 32 bytes.</summary>
    private const int HashLength = 32;

    /// <param name="embedding">x_i.</param>
    /// <param name="weights">alpha.</param>
    /// <param name="anomalyScore">The image anomaly score, or null.</param>
    /// <param name="patchScores">The raw patch scores s_ik, or empty.</param>
    /// <param name="contentSha256">The SHA-256 of the image file as 64 hex digits, or null when unknown.</param>
    public static byte[] ToBytes(
        ReadOnlySpan<float> embedding, ReadOnlySpan<float> weights, double? anomalyScore, ReadOnlySpan<float> patchScores = default, string? contentSha256 = null)
    {
        const int headerSize = 24;
        var hash = contentSha256 is null ? [] : Convert.FromHexString(contentSha256);
        if (hash.Length is not (0 or HashLength))
        {
            throw new ArgumentException("the content hash is not a SHA-256 (64 hex digits).", nameof(contentSha256));
        }
        var floatBytes = (embedding.Length + weights.Length + patchScores.Length) * sizeof(float);
        var bytes = new byte[headerSize + floatBytes + sizeof(double) + hash.Length + sizeof(uint)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], embedding.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], weights.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], patchScores.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], hash.Length);
        var body = span[headerSize..];
        MemoryMarshal.AsBytes(embedding).CopyTo(body);
        MemoryMarshal.AsBytes(weights).CopyTo(body[(embedding.Length * sizeof(float))..]);
        MemoryMarshal.AsBytes(patchScores).CopyTo(body[((embedding.Length + weights.Length) * sizeof(float))..]);
        BinaryPrimitives.WriteDoubleLittleEndian(body[floatBytes..], anomalyScore ?? double.NaN);
        hash.CopyTo(body[(floatBytes + sizeof(double))..]);
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

    /// <summary>The SHA-256 of the image file as 64 lowercase hex digits, or null when the blob has none (written before version 4, or unknown).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid outcome.</exception>
    public static string? ContentSha256FromBytes(ReadOnlySpan<byte> bytes) => Parse(bytes).ContentSha256;

    private static (float[] Embedding, float[] Weights, float[]? PatchScores, double? AnomalyScore, string? ContentSha256) Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 + sizeof(uint) || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not an image outcome blob (bad magic or too short).");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (version is not (Version or VersionWithoutHash or VersionWithoutPatchScores or VersionWithoutScore))
        {
            throw new InvalidDataException($"image outcome version {version} is not supported.");
        }
        var headerSize = version switch { Version => 24, VersionWithoutHash => 20, _ => 16 };
        if (bytes.Length < headerSize + sizeof(uint))
        {
            throw new InvalidDataException("image outcome blob has the wrong length.");
        }
        var t = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var m = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var s = version >= VersionWithoutHash ? BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]) : 0;
        var h = version == Version ? BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]) : 0;
        var scoreBytes = version == VersionWithoutScore ? 0 : sizeof(double);
        if (t < 0 || m < 0 || s < 0 || h is not (0 or HashLength)
            || bytes.Length != headerSize + ((long)t + m + s) * sizeof(float) + scoreBytes + h + sizeof(uint))
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
        var hashStart = headerSize + ((t + m + s) * sizeof(float)) + scoreBytes;
        var hash = h > 0 ? Convert.ToHexStringLower(bytes[hashStart..(hashStart + h)]) : null;
        return (embedding, weights, patchScores, score, hash);
    }
}
