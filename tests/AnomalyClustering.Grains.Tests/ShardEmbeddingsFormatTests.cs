using AnomalyClustering.Grains.Jobs;

namespace AnomalyClustering.Grains.Tests;

public sealed class ShardEmbeddingsFormatTests
{
    [Fact]
    public async Task IndicesAndScoresRoundTripAndTheEmbeddingsLandWhereTheReaderPointsThem()
    {
        var shard = new ShardEmbeddings([8192, 8195, 8200], 2, [1f, -2.5f, 3.25f, 0f, float.Epsilon, 7f], [0.5, double.NaN, 12.75]);
        // A matrix of 5 rows with the shard's 3 at rows 1 to 3, as the clustering stage fills its N x D matrix.
        var matrix = new float[5 * 2];
        (int Rows, int Width)? asked = null;

        var read = await ReadAsync(ShardEmbeddingsFormat.ToBytes(shard), (rows, width) =>
        {
            asked = (rows, width);
            return matrix.AsMemory(2, rows * width);
        });

        Assert.Equal((3, 2), asked);
        Assert.Equal(shard.ImageIndices, read.ImageIndices);
        Assert.Equal(shard.Dimension, read.Dimension);
        Assert.Equal(shard.AnomalyScores, read.AnomalyScores);
        Assert.Equal([0f, 0f, .. shard.Embeddings, 0f, 0f], matrix);
    }

    [Fact]
    public async Task ContentHashesRoundTripAndUnknownOnesStayNull()
    {
        const string hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        var shard = new ShardEmbeddings([4, 7], 1, [1f, 2f], [0.5, 1.5], [hash, null]);

        var read = await ReadAsync(ShardEmbeddingsFormat.ToBytes(shard), (rows, width) => new float[rows * width]);

        Assert.Equal([hash, null], read.ContentHashes);
        Assert.Equal([null, null], (await ReadAsync(ShardEmbeddingsFormat.ToBytes(shard with { ContentHashes = null }), (rows, width) => new float[rows * width])).ContentHashes);
        Assert.Throws<ArgumentException>(() => ShardEmbeddingsFormat.ToBytes(shard with { ContentHashes = ["abcd", null] }));
    }

    [Fact]
    public async Task VersionOneBlobsReadWithoutContentHashes()
    {
        // Version 1: magic, version, count, T, the indices, the embeddings, the scores, CRC-32 (no hashes).
        var bytes = new byte[16 + sizeof(int) + sizeof(float) + sizeof(double) + sizeof(uint)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x45534341);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 42);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(20), 1.5f);
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(24), 2.5);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, 32)));
        var matrix = new float[1];

        var read = await ReadAsync(bytes, (rows, width) => matrix.AsMemory(0, rows * width));

        Assert.Equal([42], read.ImageIndices);
        Assert.Equal([1.5f], matrix);
        Assert.Equal([2.5], read.AnomalyScores);
        Assert.Equal([null], read.ContentHashes);
    }

    [Fact]
    public async Task ABlobLargerThanTheReadBufferIsCopiedWhole()
    {
        var random = new Random(3);
        var embeddings = Enumerable.Range(0, 300 * 128).Select(_ => (float)random.NextDouble()).ToArray();
        var shard = new ShardEmbeddings([.. Enumerable.Range(0, 300)], 128, embeddings, [.. Enumerable.Range(0, 300).Select(i => i * 0.5)]);
        var matrix = new float[embeddings.Length];

        var read = await ReadAsync(ShardEmbeddingsFormat.ToBytes(shard), (rows, width) => matrix.AsMemory(0, rows * width));

        Assert.Equal(embeddings, matrix);
        Assert.Equal(shard.AnomalyScores, read.AnomalyScores);
    }

    [Fact]
    public async Task AShardWithNoUsableImageIsEmptyNotAnErrorAndAsksForNoRows()
    {
        var asked = false;
        var read = await ReadAsync(ShardEmbeddingsFormat.ToBytes(new ShardEmbeddings([], 0, [], [])), (_, _) =>
        {
            asked = true;
            return Memory<float>.Empty;
        });
        Assert.Empty(read.ImageIndices);
        Assert.False(asked);
    }

    [Fact]
    public async Task ACorruptTruncatedOrOverlongBlobIsRefused()
    {
        var bytes = ShardEmbeddingsFormat.ToBytes(new ShardEmbeddings([1, 2], 1, [1f, 2f], [3, 4]));
        var corrupt = bytes.ToArray();
        corrupt[20] ^= 1;
        Task Read(byte[] blob) => ReadAsync(blob, (rows, width) => new float[rows * width]);

        Assert.Contains("checksum", (await Assert.ThrowsAsync<InvalidDataException>(() => Read(corrupt))).Message, StringComparison.Ordinal);
        Assert.Contains("length", (await Assert.ThrowsAsync<InvalidDataException>(() => Read(bytes[..^8]))).Message, StringComparison.Ordinal);
        Assert.Contains("length", (await Assert.ThrowsAsync<InvalidDataException>(() => Read([.. bytes, 0]))).Message, StringComparison.Ordinal);
        Assert.Contains("magic", (await Assert.ThrowsAsync<InvalidDataException>(() => Read(new byte[40]))).Message, StringComparison.Ordinal);
    }

    private static async Task<ShardColumns> ReadAsync(byte[] blob, Func<int, int, Memory<float>> target)
    {
        using var stream = new MemoryStream(blob, writable: false);
        return await ShardEmbeddingsFormat.ReadIntoAsync(stream, target, TestContext.Current.CancellationToken);
    }
}
