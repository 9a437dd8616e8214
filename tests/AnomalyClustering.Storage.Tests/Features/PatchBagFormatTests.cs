using System.Buffers.Binary;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Storage.Tests.Features;

/// <summary>
/// The feature-cache format: the documented layout (checked against an encoder written independently in
/// Python), bit-exact round trips, and a typed error for every way the bytes can be wrong.
/// </summary>
public sealed class PatchBagFormatTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static PatchBag RandomBag(int gridHeight, int gridWidth, int dimension, int seed)
    {
        var random = new Random(seed);
        var data = new float[gridHeight * gridWidth * dimension];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return new PatchBag(data, gridHeight, gridWidth, dimension);
    }

    private static void AssertBitIdentical(PatchBag expected, PatchBag actual)
    {
        Assert.Equal(expected.GridHeight, actual.GridHeight);
        Assert.Equal(expected.GridWidth, actual.GridWidth);
        Assert.Equal(expected.Dimension, actual.Dimension);
        Assert.Equal(expected.Data.Select(BitConverter.SingleToInt32Bits), actual.Data.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ReadsTheIndependentPythonEncodingExactlyAndWritesTheSameBytes()
    {
        var fixtureBytes = File.ReadAllBytes(TestPaths.Fixture("feature_cache", "bag_3x4x5.acpb"));
        var expected = NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("feature_cache", "bag_3x4x5.npy")));

        var bag = PatchBagFormat.FromBytes(fixtureBytes);

        Assert.Equal((3, 4, 5), (bag.GridHeight, bag.GridWidth, bag.Dimension));
        Assert.Equal(expected.ToDoubles().Select(v => BitConverter.SingleToInt32Bits((float)v)), bag.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.True(float.IsNegative(bag.Data[0]) && bag.Data[0] == 0f);
        Assert.True(float.IsSubnormal(bag.Data[1]));
        Assert.Equal(fixtureBytes, PatchBagFormat.ToBytes(bag));
        Assert.Equal(fixtureBytes.Length, PatchBagFormat.EncodedLength(3, 4, 5));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(28, 28, 64)]   // 200 KiB payload: several 64 KiB chunks
    [InlineData(7, 9, 131)]    // payload not a multiple of the chunk size
    public async Task SyncAndAsyncRoundTripsAreBitExactAndAgree(int gridHeight, int gridWidth, int dimension)
    {
        var bag = RandomBag(gridHeight, gridWidth, dimension, seed: gridHeight * 1000 + dimension);
        var syncBytes = PatchBagFormat.ToBytes(bag);
        using var asyncStream = new MemoryStream();
        await PatchBagFormat.WriteAsync(bag, asyncStream, Token);

        Assert.Equal(syncBytes, asyncStream.ToArray());
        AssertBitIdentical(bag, PatchBagFormat.FromBytes(syncBytes));
        asyncStream.Position = 0;
        AssertBitIdentical(bag, await PatchBagFormat.ReadAsync(asyncStream, Token));
        // A stream that cannot seek and returns short reads (as a network download does) reads the same.
        AssertBitIdentical(bag, await PatchBagFormat.ReadAsync(new TrickleStream(syncBytes), Token));
        AssertBitIdentical(bag, PatchBagFormat.Read(new TrickleStream(syncBytes)));
    }

    [Fact]
    public async Task WrongMagicIsATypedError()
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(2, 2, 3, 1));
        "PNG\0"u8.CopyTo(bytes);

        var error = await ReadFailsAsync(bytes);
        Assert.Contains("magic", error.Message, StringComparison.Ordinal);
        Assert.Contains("504E4700", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownVersionIsATypedErrorNamingBothVersions()
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(2, 2, 3, 2));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 7);

        var error = await ReadFailsAsync(bytes);
        Assert.Contains("format version 7", error.Message, StringComparison.Ordinal);
        Assert.Contains("reads version 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]     // nothing at all
    [InlineData(10)]    // inside the header
    [InlineData(32)]    // header only
    [InlineData(100)]   // inside the payload
    [InlineData(-2)]    // inside the checksum
    public async Task TruncatedDataIsATypedError(int keep)
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(3, 3, 4, 3));
        var truncated = bytes[..(keep >= 0 ? keep : bytes.Length + keep)];

        var error = await ReadFailsAsync(truncated);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        // Without Length to look at, the stream version finds the cut while reading.
        var streamed = await Assert.ThrowsAsync<FeatureCacheFormatException>(() => PatchBagFormat.ReadAsync(new TrickleStream(truncated), Token));
        Assert.Contains("truncated", streamed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(40)]    // a payload byte
    [InlineData(-1)]    // a checksum byte
    public async Task AFlippedBitIsAChecksumMismatch(int position)
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(3, 3, 4, 4));
        bytes[position >= 0 ? position : bytes.Length + position] ^= 0x10;

        var error = await ReadFailsAsync(bytes);
        Assert.Contains("CRC-32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderFieldsThatContradictEachOtherAreTypedErrors()
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(3, 3, 4, 5));
        var zeroHeight = bytes.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(zeroHeight.AsSpan(8), 0);
        var wrongLength = bytes.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(wrongLength.AsSpan(24), 1L << 40);
        var otherEncoding = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(otherEncoding.AsSpan(20), 2);

        Assert.Contains("at least 1", (await ReadFailsAsync(zeroHeight)).Message, StringComparison.Ordinal);
        Assert.Contains("payload bytes", (await ReadFailsAsync(wrongLength)).Message, StringComparison.Ordinal);
        Assert.Contains("encoding 2", (await ReadFailsAsync(otherEncoding)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BytesAfterTheChecksumAreATypedError()
    {
        var bytes = PatchBagFormat.ToBytes(RandomBag(2, 2, 2, 6));

        var error = await ReadFailsAsync([.. bytes, 0]);
        Assert.Contains("after its checksum", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Both readers must refuse the bytes with the same typed error.</summary>
    private static async Task<FeatureCacheFormatException> ReadFailsAsync(byte[] bytes)
    {
        var syncError = Assert.Throws<FeatureCacheFormatException>(() => PatchBagFormat.FromBytes(bytes));
        var asyncError = await Assert.ThrowsAsync<FeatureCacheFormatException>(() => PatchBagFormat.ReadAsync(new MemoryStream(bytes), Token));
        Assert.Equal(syncError.Message, asyncError.Message);
        return syncError;
    }

    /// <summary>A read-only, non-seekable stream that returns at most 1000 bytes per read.</summary>
    private sealed class TrickleStream(byte[] bytes) : ReadOnlyTestStream
    {
        private int position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 1000), bytes.Length - position);
            Array.Copy(bytes, position, buffer, offset, n);
            position += n;
            return n;
        }
    }
}
