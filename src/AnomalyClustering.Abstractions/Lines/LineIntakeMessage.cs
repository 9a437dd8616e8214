namespace AnomalyClustering.Abstractions.Lines;

/// <summary>
/// One image on a line's intake stream: an edge gateway (or <c>line feed</c>) wrote the image to a blob and names it here.
/// Delivery is at least once; <see cref="ImageId"/> is the idempotency key, so a message delivered twice is decided once.
/// </summary>
/// <param name="Line">The line's name.</param>
/// <param name="Tenant">The line's tenant; null for none (a development cluster, the embedded CLI).</param>
/// <param name="ImageId">The image's id within the line: 1-128 letters, digits, '.', '_' or '-' (the CLI uses the SHA-256 of the bytes).</param>
/// <param name="BlobName">The blob holding the image, under the line's own folder <c>lines/{tenant}/{line}/</c>.</param>
/// <param name="FileName">The camera's file name, for people; may be null.</param>
/// <param name="EnqueuedAt">When the message was sent (decision latency is measured from here).</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.LineIntakeMessage")]
public sealed record LineIntakeMessage(
    [property: Id(0)] string Line,
    [property: Id(1)] string? Tenant,
    [property: Id(2)] string ImageId,
    [property: Id(3)] string BlobName,
    [property: Id(4)] string? FileName,
    [property: Id(5)] DateTimeOffset EnqueuedAt);

/// <summary>
/// The consumer of a line's intake stream: activated by implicit subscription, one activation per stream (a line has
/// <see cref="LineIntakeStreams.ShardsPerLine"/> streams, so that its images are decided in parallel).
/// </summary>
[Alias("AnomalyClustering.ILineIntakeGrain")]
public interface ILineIntakeGrain : IGrainWithStringKey;

/// <summary>Names of the intake stream: provider, namespace, and the stream of an image.</summary>
public static class LineIntakeStreams
{
    /// <summary>The stream provider's name (memory streams embedded, Azure Queue Storage in a cluster).</summary>
    public const string ProviderName = "line-intake";

    /// <summary>The stream namespace the consumer subscribes to implicitly.</summary>
    public const string Namespace = "line-intake";

    /// <summary>
    /// Streams per line: the consumer decides one image of a stream at a time (stream delivery waits for each), so a line
    /// takes up to this many images at once.
    /// </summary>
    public const int ShardsPerLine = 8;

    /// <summary>The key of the stream that carries <paramref name="message"/>: its line and a shard picked by its image id.</summary>
    public static string StreamKeyOf(LineIntakeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // A stable hash (FNV-1a; string.GetHashCode differs per process): a repeated message goes to the same stream.
        var hash = 2166136261u;
        foreach (var c in message.ImageId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        var shard = hash % ShardsPerLine;
        return $"{message.Tenant ?? "_"}/{message.Line}/{shard}";
    }
}
