using System.Net;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Grains.Workers;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Runtime.MembershipService.SiloMetadata;
using StackExchange.Redis;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>Configures a silo of the product: clustering and state (localhost or Redis), roles, placement and the grains' services.</summary>
public static class AnomalyClusteringSiloExtensions
{
    /// <summary>
    /// A whole silo: membership, grain state and reminders as <paramref name="hosting"/> says (Redis in a cluster; localhost
    /// and memory embedded; localhost and files, <see cref="FileReminderTable"/>, for one node over a local folder), endpoints and cluster ids from the <c>Orleans</c> section, the intake stream of production lines
    /// (<see cref="LineIntakeStreaming"/>), and
    /// <see cref="AddAnomalyClusteringGrains"/>. The blob store must be registered as <see cref="IBlobStore"/>.
    /// </summary>
    public static ISiloBuilder AddAnomalyClustering(this ISiloBuilder silo, ClusterHostingOptions hosting, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(hosting);
        ArgumentNullException.ThrowIfNull(configuration);
        var orleans = configuration.GetSection("Orleans");
        var siloPort = orleans.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = orleans.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        var clusterId = orleans["ClusterId"] ?? "anomaly-clustering";
        var serviceId = orleans["ServiceId"] ?? "anomaly-clustering";
        if (orleans["SiloName"] is { Length: > 0 } siloName)
        {
            silo.Configure<SiloOptions>(options => options.SiloName = siloName);
        }
        if (hosting.Clustering == ClusteringKind.Localhost)
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
            if (hosting.JobStateFolder is { } stateFolder)
            {
                // One node over a local store: its jobs' state in files beside the blobs, so that after a restart the job list
                // (the registry) and each coordinator are what they were, as the blobs are.
                silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Jobs,
                    (services, _) => new AtomicFileGrainStorage(stateFolder, services.GetRequiredService<Serializer>()));
                // Its reminders too: a job's resume reminder, which finishes a deletion that a stop cut short (its record is
                // gone by then, so the start-up pass over records does not find it), fires after a restart as before it.
                silo.AddReminders();
                silo.Services.AddSingleton<IReminderTable>(services => new FileReminderTable(
                    ClusterHostingOptions.RemindersFolderOf(stateFolder), services.GetRequiredService<ILogger<FileReminderTable>>()));
            }
            else
            {
                silo.AddMemoryGrainStorage(GrainStorageNames.Jobs);
                silo.UseInMemoryReminderService();
            }
            silo.AddMemoryGrainStorage(GrainStorageNames.StreamPubSub);
        }
        else
        {
            var redis = ConfigurationOptions.Parse(hosting.RedisConnectionString!);
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = clusterId;
                options.ServiceId = serviceId;
            });
            var advertised = orleans["AdvertisedIPAddress"] is { Length: > 0 } address ? IPAddress.Parse(address) : IPAddress.Loopback;
            // Orleans authenticates nothing on its silo and gateway ports: they listen on the advertised address only (the
            // pod's IP, or loopback), not on every interface of the host, unless a deployment behind an address translation
            // asks for it (Orleans:ListenOnAnyHostAddress).
            silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: orleans.GetValue("ListenOnAnyHostAddress", false));
            silo.UseRedisClustering(options => options.ConfigurationOptions = redis.Clone());
            silo.AddRedisGrainStorage(GrainStorageNames.Jobs, options => options.ConfigurationOptions = redis.Clone());
            silo.AddRedisGrainStorage(GrainStorageNames.StreamPubSub, options => options.ConfigurationOptions = redis.Clone());
            silo.UseRedisReminderService(options => options.ConfigurationOptions = redis.Clone());
        }
        silo.AddLineIntakeStreams(configuration);
        if (hosting.Roles.Contains(SiloRoles.Coordinator) && (hosting.Clustering != ClusteringKind.Localhost || hosting.JobStateFolder is not null))
        {
            // A cluster's grain state can be lost with Redis's data: jobs that have a record are resumed at start. A one-node
            // silo with its state in files: the same pass resumes the jobs that were running at once (their reminders, kept in
            // files too, would wake them within a minute). (Not with the state in memory, whose jobs end with the process.)
            silo.Services.AddHostedService<JobRecordResumption>();
        }
        return silo.AddAnomalyClusteringGrains(hosting.Roles, configuration);
    }

    /// <summary>Grain addresses a silo caches (Orleans' default is 1,000,000): bounded whatever a job's N.</summary>
    public const int DirectoryCacheSize = 20_000;

    /// <summary>
    /// The grains' side of a silo, whatever its clustering: publishes <paramref name="roles"/> as silo metadata, registers
    /// the role placement filter, the worker services (backbone sessions with batching, bag and normal-bank caches, the
    /// feature cache), retention on coordinator silos (<see cref="JobRetentionService"/>) and the options of the <c>AnomalyClustering</c> section. Needs an <see cref="IBlobStore"/> service.
    /// </summary>
    public static ISiloBuilder AddAnomalyClusteringGrains(this ISiloBuilder silo, IReadOnlyList<string> roles, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(roles);
        silo.UseSiloMetadata(roles.ToDictionary(SiloRoles.MetadataKey, _ => SiloRoles.MetadataValue));
        // Trace context flows with grain calls, so an image's spans on a worker join its job's trace on the coordinator.
        silo.AddActivityPropagation();
        silo.Services.AddPlacementFilter<SiloRolePlacementFilterStrategy, SiloRolePlacementFilterDirector>(ServiceLifetime.Transient);
        // The product's exceptions cross grain calls (a worker's BlobStoreUnavailableException tells its shard to retry the
        // image). Orleans serializes exceptions only of the namespaces it is given and answers any other with a
        // CodecNotFoundException, which is not transient: a storage outage then cost images (a fault-table case did).
        silo.Services.Configure<Orleans.Serialization.ExceptionSerializationOptions>(options => options.SupportedNamespacePrefixes.Add("AnomalyClustering."));
        // Every image has its own grain, called once: Orleans' directory cache (up to 1,000,000 grain addresses per silo by
        // default) kept one entry per image on each calling silo, about 290 B each (a 200,000-image simulation held 400,000
        // of them, 110 MB, through the clustering stage). Bounded, it keeps the grains that are called again (coordinators,
        // shards, registry, lines); an image grain's address is then looked up in the directory, as it was on its one call.
        silo.Services.Configure<GrainDirectoryOptions>(options => options.CacheSize = DirectoryCacheSize);
        if (configuration is not null)
        {
            silo.Services.Configure<WorkerOptions>(configuration.GetSection(WorkerOptions.Section));
            silo.Services.Configure<BackboneHostOptions>(configuration.GetSection(BackboneHostOptions.Section));
            silo.Services.Configure<CoordinatorOptions>(configuration.GetSection(CoordinatorOptions.Section));
            silo.Services.Configure<JobRetentionOptions>(configuration.GetSection(JobRetentionOptions.Section));
        }
        if (roles.Contains(SiloRoles.Coordinator))
        {
            // Retention walks the job registry, which lives on coordinator silos.
            silo.Services.TryAddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<JobRetentionService>();
            silo.Services.AddHostedService(services => services.GetRequiredService<JobRetentionService>());
        }
        silo.Services.AddSingleton(services => new FeatureCache(services.GetRequiredService<IBlobStore>()));
        silo.Services.AddSingleton<BackboneSessions>();
        silo.Services.AddSingleton<PatchBagMemoryCache>();
        silo.Services.AddSingleton<NormalBankCache>();
        silo.Services.AddSingleton<PatchScoring>();
        silo.Services.AddSingleton<CoordinatorCentreAssignment>();
        silo.Services.AddSingleton(services => new DecodedPixelBudget(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>()));
        // Production lines: the decisions of posted and queued images, and the catalogs they are made with.
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<LineCatalogStore>();
        silo.Services.AddSingleton<LineImageDecider>();
        return silo;
    }
}
