using AnomalyClustering.Grains.Jobs;

namespace AnomalyClustering.Grains.Tests;

public sealed class ShardEmbeddingsFormatTests
{
    [Fact]
    public void IndicesEmbeddingsAndScoresRoundTripExactly()
    {
        var shard = new ShardEmbeddings([8192, 8195, 8200], 2, [1f, -2.5f, 3.25f, 0f, float.Epsilon, 7f], [0.5, double.NaN, 12.75]);

        var read = ShardEmbeddingsFormat.FromBytes(ShardEmbeddingsFormat.ToBytes(shard));

        Assert.Equal(shard.ImageIndices, read.ImageIndices);
        Assert.Equal(shard.Dimension, read.Dimension);
        Assert.Equal(shard.Embeddings, read.Embeddings);
        Assert.Equal(shard.AnomalyScores, read.AnomalyScores);
    }

    [Fact]
    public void AShardWithNoUsableImageIsEmptyNotAnError()
    {
        var read = ShardEmbeddingsFormat.FromBytes(ShardEmbeddingsFormat.ToBytes(new ShardEmbeddings([], 0, [], [])));
        Assert.Empty(read.ImageIndices);
    }

    [Fact]
    public void ACorruptOrTruncatedBlobIsRefused()
    {
        var bytes = ShardEmbeddingsFormat.ToBytes(new ShardEmbeddings([1, 2], 1, [1f, 2f], [3, 4]));
        bytes[20] ^= 1;
        Assert.Throws<InvalidDataException>(() => ShardEmbeddingsFormat.FromBytes(bytes));
        Assert.Throws<InvalidDataException>(() => ShardEmbeddingsFormat.FromBytes(bytes.AsSpan(0, bytes.Length - 8)));
    }
}
