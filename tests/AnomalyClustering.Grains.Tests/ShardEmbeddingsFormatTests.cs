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
