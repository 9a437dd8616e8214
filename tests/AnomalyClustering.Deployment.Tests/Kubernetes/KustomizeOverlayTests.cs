using AnomalyClustering.Deployment.Tests.Infrastructure;
using k8s.Models;

namespace AnomalyClustering.Deployment.Tests.Kubernetes;

/// <summary>Every kustomize overlay of k8s/ renders with <c>kubectl kustomize</c> and passes the deployment checks.</summary>
public sealed class KustomizeOverlayTests
{
    /// <summary>The overlays an operator applies, plus production with the workload-identity component added.</summary>
    public static TheoryData<string> Overlays => ["dev", "production", "production+azure-workload-identity"];

    private static RenderedManifests Render(string overlay)
    {
        var parts = overlay.Split('+');
        return Kustomize.Render("overlays/" + parts[0], parts[1..]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Renders_into_one_namespace_with_the_expected_kinds(string overlay)
    {
        var manifests = Render(overlay);
        var ns = Assert.Single(manifests.All<V1Namespace>());
        foreach (var item in manifests.Objects.Where(o => o is not V1Namespace))
        {
            Assert.True(item.Metadata.NamespaceProperty == ns.Metadata.Name,
                $"{manifests.Source}: {item.Kind} {item.Metadata.Name} is in namespace '{item.Metadata.NamespaceProperty}', not {ns.Metadata.Name}.");
        }
        Assert.Superset(
            new HashSet<string> { "v1/Namespace", "v1/ServiceAccount", "v1/ConfigMap", "apps/v1/Deployment", "v1/Service",
                "policy/v1/PodDisruptionBudget", "autoscaling/v2/HorizontalPodAutoscaler" },
            new HashSet<string>(manifests.ApiKinds));
        Assert.DoesNotContain(manifests.ApiKinds, k => k.Contains("rbac.authorization.k8s.io", StringComparison.Ordinal));
        foreach (var item in manifests.Objects)
        {
            Assert.True(item.Metadata.Labels?.TryGetValue("app.kubernetes.io/part-of", out var partOf) == true && partOf == "anomaly-clustering",
                $"{manifests.Source}: {item.Kind} {item.Metadata.Name} lacks app.kubernetes.io/part-of=anomaly-clustering.");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void The_gpu_worker_requests_a_gpu_and_schedules_only_on_gpu_nodes(string overlay) =>
        ManifestChecks.GpuWorkerRunsOnlyOnGpuNodes(Render(overlay));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Silo_pods_have_probes_resources_hardening_and_graceful_shutdown(string overlay) =>
        ManifestChecks.SiloPodsAreProbedSizedAndHardened(Render(overlay));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Silo_environment_follows_the_operations_contract(string overlay) =>
        ManifestChecks.SiloEnvironmentFollowsTheContract(Render(overlay));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_referenced_config_map_and_secret_key_is_defined(string overlay) =>
        ManifestChecks.EveryReferencedKeyIsDefined(Render(overlay), ManifestChecks.OperatorSecretTemplate());

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Services_budgets_and_the_autoscaler_select_what_exists(string overlay)
    {
        var manifests = Render(overlay);
        ManifestChecks.SelectorsAndTargetsResolve(manifests);
        ManifestChecks.CoordinatorServiceExposesTheContractPorts(manifests);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Network_policies_fence_the_silos(string overlay) =>
        ManifestChecks.SilosAreFencedByNetworkPolicies(Render(overlay));

    [Fact]
    public void Dev_secret_points_at_the_in_cluster_redis_and_azurite()
    {
        var manifests = Render("dev");
        var secret = manifests.Secret("anomaly-clustering-secrets");
        Assert.NotNull(secret);

        // StackExchange.Redis: "host:port,option=value,...".
        var redisEndpoint = RenderedManifests.ValueOf(secret, "redis-connection-string")!.Split(',')[0].Split(':');
        AssertServicePort(manifests, redisEndpoint[0], int.Parse(redisEndpoint[1], System.Globalization.CultureInfo.InvariantCulture));

        var storage = RenderedManifests.ValueOf(secret, "blob-connection-string")!.Split(';')
            .Select(part => part.Split('=', 2)).Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1]);
        // Blobs, and the queues of production-line intake on the same account.
        foreach (var endpoint in new[] { "BlobEndpoint", "QueueEndpoint" })
        {
            var uri = new Uri(storage[endpoint]);
            AssertServicePort(manifests, uri.Host, uri.Port);
        }
    }

    [Fact]
    public void Dev_redis_keeps_its_data_in_an_append_only_file_on_a_persistent_volume()
    {
        // An in-cluster Redis that restarts empty loses every job's state; AOF on a claimed volume keeps it.
        var manifests = Render("dev");
        var redis = Assert.Single(manifests.All<V1Deployment>(), d => d.Metadata.Name == "redis");
        var container = Assert.Single(redis.Spec.Template.Spec.Containers);
        var args = container.Args ?? [];
        var appendOnly = args.IndexOf("--appendonly");
        Assert.True(appendOnly >= 0 && appendOnly + 1 < args.Count && args[appendOnly + 1] == "yes", $"redis args: {string.Join(' ', args)}");
        var data = Assert.Single(container.VolumeMounts, mount => mount.MountPath == "/data");
        var volume = Assert.Single(redis.Spec.Template.Spec.Volumes, v => v.Name == data.Name);
        Assert.NotNull(volume.PersistentVolumeClaim);
        Assert.Contains(manifests.All<V1PersistentVolumeClaim>(), claim => claim.Metadata.Name == volume.PersistentVolumeClaim.ClaimName);
        Assert.Equal("Recreate", redis.Spec.Strategy?.Type);
    }

    [Fact]
    public void Production_renders_no_secret_and_the_template_covers_what_the_silos_read()
    {
        var manifests = Render("production");
        // The example's placeholders must never be applied: production renders no Secret at all.
        Assert.Empty(manifests.All<V1Secret>());
        var template = Assert.Single(ManifestChecks.OperatorSecretTemplate());
        var referenced = manifests.Silos
            .SelectMany(d => d.Spec.Template.Spec.Containers.SelectMany(c => c.Env ?? []))
            .Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>()
            .Where(r => r.Name == template.Metadata.Name).Select(r => r.Key).ToHashSet();
        // The template documents exactly what production needs: no stale keys for operators to fill in.
        Assert.Equal(referenced.Order(), RenderedManifests.KeysOf(template).Order());
    }

    [Fact]
    public void Production_is_larger_than_dev_and_exports_telemetry()
    {
        var dev = Render("dev");
        var production = Render("production");
        Assert.True(production.Silo("coordinator").Spec.Replicas > dev.Silo("coordinator").Spec.Replicas);
        Assert.True(production.All<V2HorizontalPodAutoscaler>().Single().Spec.MaxReplicas
                    > dev.All<V2HorizontalPodAutoscaler>().Single().Spec.MaxReplicas);
        foreach (var silo in production.Silos)
        {
            var container = Assert.Single(silo.Spec.Template.Spec.Containers);
            var environment = ManifestChecks.EffectiveEnvironment(production, container);
            Assert.StartsWith("http", environment["OTEL_EXPORTER_OTLP_ENDPOINT"].Value, StringComparison.Ordinal);
            // A released image, never a moving tag.
            Assert.DoesNotMatch(":(latest|dev)$", container.Image);
            Assert.Contains(':', container.Image);
        }
        Assert.DoesNotContain(production.All<V1Deployment>(), d => d.Metadata.Name is "redis" or "azurite");
    }

    [Fact]
    public void Workload_identity_component_swaps_the_blob_connection_string_for_a_service_uri()
    {
        var manifests = Render("production+azure-workload-identity");
        foreach (var silo in manifests.Silos)
        {
            var container = Assert.Single(silo.Spec.Template.Spec.Containers);
            var environment = ManifestChecks.EffectiveEnvironment(manifests, container);
            Assert.False(environment.ContainsKey("ConnectionStrings__Blobs"), $"{silo.Metadata.Name} still reads a blob connection string.");
            Assert.StartsWith("https://", environment["AnomalyClustering__Storage__ServiceUri"].Value, StringComparison.Ordinal);
            Assert.Equal("true", silo.Spec.Template.Metadata.Labels["azure.workload.identity/use"]);
            Assert.Equal(silo.Spec.Template.Spec.ServiceAccountName, manifests.All<V1ServiceAccount>().Single().Metadata.Name);
        }
        Assert.True(manifests.All<V1ServiceAccount>().Single().Metadata.Annotations?.ContainsKey("azure.workload.identity/client-id") == true);
    }

    private static void AssertServicePort(RenderedManifests manifests, string host, int port)
    {
        var service = manifests.Service(host);
        Assert.True(service is not null, $"{manifests.Source}: the dev Secret points at host {host}, but no Service has that name.");
        Assert.Contains(service.Spec.Ports, p => p.Port == port);
    }
}
