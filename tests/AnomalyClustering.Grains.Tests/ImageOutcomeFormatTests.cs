using System.Buffers.Binary;
using System.IO.Hashing;
using AnomalyClustering.Grains.Images;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The image outcome blob: embedding, weights, patch scores, anomaly score and content hash round-trip; blobs written before
/// content hashes (version 3), before patch scores (version 2) and before anomaly scores (version 1) still read.
/// </summary>
public sealed class ImageOutcomeFormatTests
{
    private const string Sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void TheContentHashRoundTripsBesideEverythingElse()
    {
        var bytes = ImageOutcomeFormat.ToBytes([0.5f], [0.25f, 0.75f], 3.5, [1f, 2f], Sha256.ToUpperInvariant());

        Assert.Equal(Sha256, ImageOutcomeFormat.ContentSha256FromBytes(bytes));
        var (embedding, weights, score) = ImageOutcomeFormat.FromBytes(bytes);
        Assert.Equal([0.5f], embedding);
        Assert.Equal([0.25f, 0.75f], weights);
        Assert.Equal(3.5, score);
        Assert.Equal([1f, 2f], ImageOutcomeFormat.PatchScoresFromBytes(bytes)!);
        Assert.Null(ImageOutcomeFormat.ContentSha256FromBytes(ImageOutcomeFormat.ToBytes([0.5f], [1f], null)));

        bytes[^10] ^= 0x01;
        Assert.Throws<InvalidDataException>(() => ImageOutcomeFormat.ContentSha256FromBytes(bytes));
        Assert.Throws<ArgumentException>(() => ImageOutcomeFormat.ToBytes([0.5f], [1f], null, contentSha256: "abcd"));
    }

    [Fact]
    public void VersionThreeBlobsReadWithoutAContentHash()
    {
        // Version 3: magic, version, T, M, S, T + M + S floats, the anomaly score as a double, CRC-32.
        var bytes = new byte[20 + (3 * sizeof(float)) + sizeof(double) + sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x4F494341);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 3);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 1);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(20), 2.5f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(24), 1f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(28), 9f);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(32), 9.0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), Crc32.HashToUInt32(bytes.AsSpan(0, 40)));

        var (embedding, weights, score) = ImageOutcomeFormat.FromBytes(bytes);

        Assert.Equal([2.5f], embedding);
        Assert.Equal([1f], weights);
        Assert.Equal(9.0, score);
        Assert.Equal([9f], ImageOutcomeFormat.PatchScoresFromBytes(bytes)!);
        Assert.Null(ImageOutcomeFormat.ContentSha256FromBytes(bytes));
    }

    [Fact]
    public void EmbeddingWeightsAndScoreRoundTripExactly()
    {
        float[] embedding = [0.5f, -1.25f, 3e-8f];
        float[] weights = [0.25f, 0.75f];

        var (readEmbedding, readWeights, score) = ImageOutcomeFormat.FromBytes(ImageOutcomeFormat.ToBytes(embedding, weights, 6.46196988103099));
        Assert.Equal(embedding, readEmbedding);
        Assert.Equal(weights, readWeights);
        Assert.Equal(6.46196988103099, score);

        Assert.Null(ImageOutcomeFormat.FromBytes(ImageOutcomeFormat.ToBytes(embedding, weights, null)).AnomalyScore);
    }

    [Fact]
    public void PatchScoresRoundTripExactly()
    {
        float[] patchScores = [4.5f, 0.125f, 7.75f, 1e-3f];

        var bytes = ImageOutcomeFormat.ToBytes([0.5f], [0.1f, 0.2f, 0.3f, 0.4f], 7.75, patchScores);

        Assert.Equal(patchScores, ImageOutcomeFormat.PatchScoresFromBytes(bytes));
        var (embedding, weights, score) = ImageOutcomeFormat.FromBytes(bytes);
        Assert.Equal([0.5f], embedding);
        Assert.Equal([0.1f, 0.2f, 0.3f, 0.4f], weights);
        Assert.Equal(7.75, score);
        // The average mode has no patch scores.
        Assert.Null(ImageOutcomeFormat.PatchScoresFromBytes(ImageOutcomeFormat.ToBytes([0.5f], [0.5f, 0.5f], null)));
    }

    [Fact]
    public void VersionTwoBlobsReadWithoutPatchScores()
    {
        // Version 2: magic, version, T, M, T + M floats, the anomaly score as a double, CRC-32.
        var bytes = new byte[16 + (2 * sizeof(float)) + sizeof(double) + sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x4F494341);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), 1);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(16), 2.5f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(20), 1f);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(24), 3.25);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), Crc32.HashToUInt32(bytes.AsSpan(0, 32)));

        var (embedding, weights, score) = ImageOutcomeFormat.FromBytes(bytes);

        Assert.Equal([2.5f], embedding);
        Assert.Equal([1f], weights);
        Assert.Equal(3.25, score);
        Assert.Null(ImageOutcomeFormat.PatchScoresFromBytes(bytes));
    }

    [Fact]
    public void ACorruptedPatchScoreFailsTheChecksum()
    {
        var bytes = ImageOutcomeFormat.ToBytes([1f], [1f], 2.0, [2f]);
        bytes[^14] ^= 0x01;
        Assert.Throws<InvalidDataException>(() => ImageOutcomeFormat.PatchScoresFromBytes(bytes));
    }

    [Fact]
    public void VersionOneBlobsReadWithoutAScore()
    {
        // Version 1: magic, version, T, M, T + M floats, CRC-32; no score.
        var bytes = new byte[16 + (2 * sizeof(float)) + sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x4F494341);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), 1);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(16), 2.5f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(20), 1f);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), Crc32.HashToUInt32(bytes.AsSpan(0, 24)));

        var (embedding, weights, score) = ImageOutcomeFormat.FromBytes(bytes);

        Assert.Equal([2.5f], embedding);
        Assert.Equal([1f], weights);
        Assert.Null(score);
    }

    [Fact]
    public void ACorruptedScoreFailsTheChecksum()
    {
        var bytes = ImageOutcomeFormat.ToBytes([1f], [1f], 2.0);
        bytes[^6] ^= 0x40;
        Assert.Throws<InvalidDataException>(() => ImageOutcomeFormat.FromBytes(bytes));
    }
}
