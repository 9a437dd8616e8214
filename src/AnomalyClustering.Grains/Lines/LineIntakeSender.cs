using AnomalyClustering.Abstractions.Lines;
using Orleans.Runtime;

namespace AnomalyClustering.Grains.Lines;

/// <summary>Sends intake messages on the stream their line and image id pick (<see cref="LineIntakeStreams.StreamKeyOf"/>).</summary>
public static class LineIntakeSender
{
    /// <summary>
    /// Enqueues <paramref name="message"/> through <paramref name="client"/>, whose host has the intake stream provider (a silo,
    /// or a client with <see cref="Hosting.LineIntakeStreaming.AddLineIntakeStreams(IClientBuilder, Microsoft.Extensions.Configuration.IConfiguration?)"/>).
    /// The image blob must be written first.
    /// </summary>
    public static Task SendAsync(this IClusterClient client, LineIntakeMessage message)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(message);
        var stream = client.GetStreamProvider(LineIntakeStreams.ProviderName)
            .GetStream<LineIntakeMessage>(StreamId.Create(LineIntakeStreams.Namespace, LineIntakeStreams.StreamKeyOf(message)));
        return stream.OnNextAsync(message);
    }
}
