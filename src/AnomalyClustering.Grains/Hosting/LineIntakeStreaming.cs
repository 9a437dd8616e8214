using AnomalyClustering.Abstractions.Lines;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// The stream provider of production-line intake (<see cref="LineIntakeStreams.ProviderName"/>), chosen by
/// <c>AnomalyClustering:Intake:Queue</c>: <c>Memory</c> (the default: embedded mode and development; messages live in the
/// silos' memory) or <c>AzureQueue</c> (Azure Queue Storage, on the account of the blob store's settings:
/// <c>ConnectionStrings:Blobs</c>, or <c>AnomalyClustering:Storage:ServiceUri</c> with DefaultAzureCredential). Queues:
/// <c>AnomalyClustering:Intake:QueueCount</c> (default 4) named <c>{QueueNamePrefix}-{n}</c> (default <c>line-intake</c>).
/// </summary>
public static class LineIntakeStreaming
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Intake";

    /// <summary>
    /// How long the stream keeps redelivering a message whose consumer failed (a worker or the store away) before it gives
    /// up on it. Orleans' default (one minute) would drop an image after a short outage; a week means until someone acts.
    /// </summary>
    public static readonly TimeSpan MaxEventDeliveryTime = TimeSpan.FromDays(7);

    /// <summary>Adds the intake stream provider to a silo (and the pub-sub state the pulling agents need, in memory unless given).</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid or missing; the message names it.</exception>
    public static ISiloBuilder AddLineIntakeStreams(this ISiloBuilder silo, IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var settings = IntakeSettings.Read(configuration);
        if (settings.Queue == IntakeQueueKind.AzureQueue)
        {
            silo.AddAzureQueueStreams(LineIntakeStreams.ProviderName, configurator =>
            {
                configurator.ConfigureAzureQueue(options => options.Configure(queue => settings.Apply(queue, configuration!)));
                configurator.ConfigurePullingAgent(options => options.Configure(agent => agent.MaxEventDeliveryTime = MaxEventDeliveryTime));
            });
        }
        else
        {
            silo.AddMemoryStreams(LineIntakeStreams.ProviderName, configurator =>
            {
                configurator.ConfigurePartitioning(settings.QueueCount);
                configurator.ConfigurePullingAgent(options => options.Configure(agent => agent.MaxEventDeliveryTime = MaxEventDeliveryTime));
            });
        }
        return silo;
    }

    /// <summary>
    /// Adds the intake stream provider to an Orleans client (an edge gateway, <c>line feed</c>, the tests), so that it can
    /// send <see cref="LineIntakeMessage"/>s; the settings must be the silos'.
    /// </summary>
    public static IClientBuilder AddLineIntakeStreams(this IClientBuilder client, IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        var settings = IntakeSettings.Read(configuration);
        if (settings.Queue == IntakeQueueKind.AzureQueue)
        {
            client.AddAzureQueueStreams(LineIntakeStreams.ProviderName, options => options.Configure(queue => settings.Apply(queue, configuration!)));
        }
        else
        {
            client.AddMemoryStreams(LineIntakeStreams.ProviderName, configurator => configurator.ConfigurePartitioning(settings.QueueCount));
        }
        return client;
    }

    // Pinned like the blob store's (AzureBlobStore.PinnedServiceVersion): one that Azure and the tests' Azurite both accept.
    private static QueueClientOptions ClientOptions() => new(QueueClientOptions.ServiceVersion.V2025_11_05);

    private enum IntakeQueueKind
    {
        Memory,
        AzureQueue,
    }

    private sealed record IntakeSettings(IntakeQueueKind Queue, int QueueCount, string QueueNamePrefix)
    {
        public static IntakeSettings Read(IConfiguration? configuration)
        {
            var section = configuration?.GetSection(Section);
            var kindText = section?["Queue"];
            var kind = string.IsNullOrWhiteSpace(kindText) ? IntakeQueueKind.Memory
                : Enum.TryParse<IntakeQueueKind>(kindText, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed
                : throw new InvalidOperationException($"{Section}:Queue is '{kindText}'; use Memory or AzureQueue.");
            var countText = section?["QueueCount"];
            var count = string.IsNullOrWhiteSpace(countText) ? 4
                : int.TryParse(countText, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64 ? n
                : throw new InvalidOperationException($"{Section}:QueueCount is '{countText}'; use a whole number from 1 to 64.");
            var prefix = section?["QueueNamePrefix"] is { Length: > 0 } given ? given : "line-intake";
            // Azure queue names: 3-63 lower-case letters, digits and single hyphens.
            if (!System.Text.RegularExpressions.Regex.IsMatch(prefix, @"^[a-z0-9](-?[a-z0-9]){1,55}\z"))
            {
                throw new InvalidOperationException($"{Section}:QueueNamePrefix is '{prefix}'; use 2-56 lower-case letters, digits and single hyphens (an Azure queue name).");
            }
            return new IntakeSettings(kind, count, prefix);
        }

        public void Apply(AzureQueueOptions queue, IConfiguration configuration)
        {
            queue.QueueNames = [.. Enumerable.Range(0, QueueCount).Select(n => $"{QueueNamePrefix}-{n}")];
            if (configuration.GetConnectionString("Blobs") is { Length: > 0 } connectionString)
            {
                queue.QueueServiceClient = new QueueServiceClient(connectionString, ClientOptions());
            }
            else if (configuration["AnomalyClustering:Storage:ServiceUri"] is { Length: > 0 } blobService)
            {
                // The account's queue endpoint beside its blob endpoint (https://acct.blob.core.windows.net -> acct.queue...).
                var uri = new UriBuilder(blobService);
                uri.Host = uri.Host.Replace(".blob.", ".queue.", StringComparison.OrdinalIgnoreCase);
                queue.QueueServiceClient = new QueueServiceClient(uri.Uri, new DefaultAzureCredential(), ClientOptions());
            }
            else
            {
                throw new InvalidOperationException($"{Section}:Queue is AzureQueue but neither ConnectionStrings:Blobs nor AnomalyClustering:Storage:ServiceUri is set.");
            }
        }
    }
}
