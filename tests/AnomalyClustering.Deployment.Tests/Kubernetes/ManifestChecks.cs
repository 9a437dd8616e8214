using System.Text.RegularExpressions;
using AnomalyClustering.Deployment.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace AnomalyClustering.Deployment.Tests.Kubernetes;

/// <summary>
/// Assertions every rendering of the deployment must pass, whether it came from a kustomize overlay or from the Helm chart:
/// GPU scheduling, probes, resources, hardening, the OPS_CONTRACT environment, references, selectors.
/// </summary>
internal static partial class ManifestChecks
{
    /// <summary>The extended resource the NVIDIA device plugin advertises.</summary>
    public const string GpuResource = "nvidia.com/gpu";

    /// <summary>The Secret production expects the operator to create (its keys are the contract with the deployment).</summary>
    public const string SecretTemplatePath = "k8s/overlays/production/secret.example.yaml";

    /// <summary>Environment every silo needs (OPS_CONTRACT, "Configuration"), whatever its role.</summary>
    private static readonly string[] RequiredSiloEnvironment =
    [
        "ASPNETCORE_HTTP_PORTS",
        "AnomalyClustering__Roles",
        "AnomalyClustering__Clustering",
        "AnomalyClustering__Storage__Kind",
        "AnomalyClustering__Storage__Container",
        "AnomalyClustering__Intake__Queue",
        "AnomalyClustering__Backbones__ExecutionProvider",
        "AnomalyClustering__Telemetry__PrometheusEndpoint",
        "ConnectionStrings__Redis",
        "Orleans__ClusterId",
        "Orleans__ServiceId",
        "Orleans__SiloName",
        "Orleans__AdvertisedIPAddress",
        "Orleans__SiloPort",
        "Orleans__GatewayPort",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ];

    /// <summary>The worker pod asks for a GPU and can land only on GPU nodes; the coordinator neither asks nor tolerates the GPU taint.</summary>
    public static void GpuWorkerRunsOnlyOnGpuNodes(RenderedManifests manifests)
    {
        var worker = manifests.Silo("gpu-worker").Spec.Template.Spec;
        var container = Assert.Single(worker.Containers);
        Assert.True(container.Resources?.Limits is { } limits && limits.TryGetValue(GpuResource, out var gpus) && gpus.ToDecimal() >= 1,
            $"{manifests.Source}: the gpu-worker container must limit {GpuResource} to at least 1.");
        if (container.Resources.Requests is { } requests && requests.TryGetValue(GpuResource, out var requested))
        {
            // Kubernetes rejects extended resources whose request differs from the limit.
            Assert.Equal(container.Resources.Limits[GpuResource].ToDecimal(), requested.ToDecimal());
        }

        var selectsGpuNodes = worker.NodeSelector is { Count: > 0 } selector
                              && selector.Keys.Any(k => k.Contains("gpu", StringComparison.OrdinalIgnoreCase)
                                                        || k.Contains("accelerator", StringComparison.OrdinalIgnoreCase));
        var requiresGpuNodes = worker.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms
            is { Count: > 0 } terms
            && terms.All(t => t.MatchExpressions?.Any(e => e.Key.Contains("gpu", StringComparison.OrdinalIgnoreCase)) == true);
        Assert.True(selectsGpuNodes || requiresGpuNodes,
            $"{manifests.Source}: the gpu-worker pod must select GPU nodes (nodeSelector or required node affinity on a GPU label).");
        Assert.True(worker.Tolerations?.Any(t => t.Key == GpuResource && t.Effect == "NoSchedule"
                                                  && (t.OperatorProperty == "Exists" || t.OperatorProperty == "Equal")) == true,
            $"{manifests.Source}: the gpu-worker pod must tolerate the GPU pool's {GpuResource}:NoSchedule taint.");

        var coordinator = manifests.Silo("coordinator").Spec.Template.Spec;
        Assert.DoesNotContain(coordinator.Containers, c => c.Resources?.Limits?.ContainsKey(GpuResource) == true);
        Assert.False(coordinator.Tolerations?.Any(t => t.Key == GpuResource) == true,
            $"{manifests.Source}: coordinators must stay off the GPU pool (no {GpuResource} toleration).");
    }

    /// <summary>Probes on the contract's health endpoints, requests and limits, a non-root read-only container, graceful shutdown.</summary>
    public static void SiloPodsAreProbedSizedAndHardened(RenderedManifests manifests)
    {
        foreach (var deployment in manifests.Silos)
        {
            var name = $"{manifests.Source}: Deployment {deployment.Metadata.Name}";
            var pod = deployment.Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);

            AssertHttpProbe(name + " liveness", container, container.LivenessProbe, "/health/live");
            AssertHttpProbe(name + " readiness", container, container.ReadinessProbe, "/health/ready");
            AssertHttpProbe(name + " startup", container, container.StartupProbe, "/health/live");

            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{name}: no {resource} request.");
                Assert.True(container.Resources?.Limits?.ContainsKey(resource) == true, $"{name}: no {resource} limit.");
                Assert.True(container.Resources.Limits[resource].ToDecimal() >= container.Resources.Requests[resource].ToDecimal(),
                    $"{name}: the {resource} limit is below the request.");
            }

            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{name}: runAsNonRoot is not set.");
            Assert.True(pod.SecurityContext.RunAsUser is > 0, $"{name}: runAsUser must be a non-zero UID (the images use 1654).");
            Assert.True(container.SecurityContext?.ReadOnlyRootFilesystem == true, $"{name}: the root file system is writable.");
            Assert.True(container.SecurityContext.AllowPrivilegeEscalation == false, $"{name}: privilege escalation is allowed.");
            Assert.Contains("ALL", container.SecurityContext.Capabilities?.Drop ?? []);
            var tmp = Assert.Single(container.VolumeMounts ?? [], m => m.MountPath == "/tmp");
            Assert.True(pod.Volumes?.SingleOrDefault(v => v.Name == tmp.Name)?.EmptyDir is not null,
                $"{name}: /tmp must be an emptyDir (the one writable place with a read-only root).");

            Assert.True(pod.TerminationGracePeriodSeconds >= 60,
                $"{name}: terminationGracePeriodSeconds must be at least 60 (OPS_CONTRACT), is {pod.TerminationGracePeriodSeconds}.");
            var preStop = container.Lifecycle?.PreStop;
            Assert.True(preStop?.Sleep?.Seconds > 0 || preStop?.Exec is not null, $"{name}: no preStop hook.");
            var preStopSeconds = preStop?.Sleep?.Seconds ?? 0;
            Assert.True(preStopSeconds < pod.TerminationGracePeriodSeconds - 30,
                $"{name}: preStop leaves the silo too little of the grace period to stop.");
        }
    }

    /// <summary>
    /// The effective environment (env plus envFrom ConfigMaps) holds everything OPS_CONTRACT names, the downward API gives
    /// the silo its pod name and IP, and every <c>$(VAR)</c> refers to a variable defined before it.
    /// </summary>
    public static void SiloEnvironmentFollowsTheContract(RenderedManifests manifests)
    {
        foreach (var (role, deployment) in new[] { ("coordinator", manifests.Silo("coordinator")), ("gpu-worker", manifests.Silo("gpu-worker")) })
        {
            var name = $"{manifests.Source}: Deployment {deployment.Metadata.Name}";
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            var environment = EffectiveEnvironment(manifests, container);

            foreach (var key in RequiredSiloEnvironment)
            {
                Assert.True(environment.ContainsKey(key), $"{name}: {key} is not set.");
            }
            Assert.True(environment.ContainsKey("ConnectionStrings__Blobs") || environment.ContainsKey("AnomalyClustering__Storage__ServiceUri"),
                $"{name}: blob storage needs ConnectionStrings__Blobs or AnomalyClustering__Storage__ServiceUri.");

            Assert.Equal(role, environment["AnomalyClustering__Roles"].Value);
            Assert.Equal("Redis", environment["AnomalyClustering__Clustering"].Value);
            Assert.Equal("8080;9464", environment["ASPNETCORE_HTTP_PORTS"].Value);
            Assert.Equal("9464", environment["AnomalyClustering__Telemetry__MetricsPort"].Value);
            Assert.Equal("11111", environment["Orleans__SiloPort"].Value);
            Assert.Equal("30000", environment["Orleans__GatewayPort"].Value);
            Assert.Equal("metadata.name", environment["Orleans__SiloName"].ValueFrom?.FieldRef?.FieldPath);
            Assert.Equal("status.podIP", environment["Orleans__AdvertisedIPAddress"].ValueFrom?.FieldRef?.FieldPath);
            Assert.NotNull(environment["ConnectionStrings__Redis"].ValueFrom?.SecretKeyRef);
            if (environment.TryGetValue("ConnectionStrings__Blobs", out var blobs))
            {
                Assert.NotNull(blobs.ValueFrom?.SecretKeyRef);
            }
            Assert.Contains(environment["AnomalyClustering__Backbones__ExecutionProvider"].Value, new[] { "Cpu", "Cuda", "TensorRT" });
            if (role == "gpu-worker")
            {
                Assert.NotEqual("Cpu", environment["AnomalyClustering__Backbones__ExecutionProvider"].Value);
            }
            Assert.Contains("service.instance.id=$(POD_NAME)", environment["OTEL_RESOURCE_ATTRIBUTES"].Value);

            // Kubernetes expands $(VAR) only for variables from envFrom or defined earlier in env.
            var definedSoFar = EffectiveEnvironment(manifests, new V1Container { EnvFrom = container.EnvFrom })
                .Keys.ToHashSet(StringComparer.Ordinal);
            foreach (var variable in container.Env ?? [])
            {
                foreach (Match reference in DependentVariable().Matches(variable.Value ?? ""))
                {
                    Assert.True(definedSoFar.Contains(reference.Groups[1].Value),
                        $"{name}: {variable.Name} uses $({reference.Groups[1].Value}), which is not defined before it (Kubernetes would pass it literally).");
                }
                definedSoFar.Add(variable.Name);
            }

            var ports = container.Ports?.ToDictionary(p => p.Name ?? "", p => p.ContainerPort) ?? [];
            Assert.Equal(8080, ports.GetValueOrDefault("http"));
            Assert.Equal(9464, ports.GetValueOrDefault("metrics"));
            Assert.Equal(11111, ports.GetValueOrDefault("silo"));
            Assert.Equal(30000, ports.GetValueOrDefault("gateway"));
        }
    }

    /// <summary>
    /// Every ConfigMap and Secret a pod refers to (env, envFrom, volumes) exists with the keys referred to. A Secret absent from
    /// the render is the operator's: its keys are checked against <paramref name="operatorSecrets"/> (the shipped template).
    /// </summary>
    public static void EveryReferencedKeyIsDefined(RenderedManifests manifests, IReadOnlyList<V1Secret> operatorSecrets)
    {
        var checkedReferences = 0;
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var name = $"{manifests.Source}: Deployment {deployment.Metadata.Name}";
            var pod = deployment.Spec.Template.Spec;
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                foreach (var source in container.EnvFrom ?? [])
                {
                    if (source.ConfigMapRef is { } configMapRef && configMapRef.Optional != true)
                    {
                        Assert.True(manifests.ConfigMap(configMapRef.Name) is not null, $"{name}: envFrom ConfigMap {configMapRef.Name} is not defined.");
                        checkedReferences++;
                    }
                    if (source.SecretRef is { } secretRef && secretRef.Optional != true)
                    {
                        SecretKeys(manifests, operatorSecrets, secretRef.Name, name);
                        checkedReferences++;
                    }
                }
                foreach (var variable in container.Env ?? [])
                {
                    if (variable.ValueFrom?.ConfigMapKeyRef is { Optional: not true } configMapKey)
                    {
                        var configMap = manifests.ConfigMap(configMapKey.Name);
                        Assert.True(configMap?.Data?.ContainsKey(configMapKey.Key) == true,
                            $"{name}: {variable.Name} refers to key {configMapKey.Key} of ConfigMap {configMapKey.Name}, which is not defined.");
                        checkedReferences++;
                    }
                    if (variable.ValueFrom?.SecretKeyRef is { Optional: not true } secretKey)
                    {
                        Assert.True(SecretKeys(manifests, operatorSecrets, secretKey.Name, name).Contains(secretKey.Key),
                            $"{name}: {variable.Name} refers to key {secretKey.Key} of Secret {secretKey.Name}, which does not define it.");
                        checkedReferences++;
                    }
                }
            }
            foreach (var volume in pod.Volumes ?? [])
            {
                if (volume.ConfigMap is { Optional: not true } configMapVolume)
                {
                    var configMap = manifests.ConfigMap(configMapVolume.Name);
                    Assert.True(configMap is not null, $"{name}: volume {volume.Name} mounts ConfigMap {configMapVolume.Name}, which is not defined.");
                    foreach (var item in configMapVolume.Items ?? [])
                    {
                        Assert.True(configMap.Data?.ContainsKey(item.Key) == true, $"{name}: ConfigMap {configMapVolume.Name} has no key {item.Key}.");
                    }
                    checkedReferences++;
                }
                if (volume.Secret is { Optional: not true } secretVolume)
                {
                    var keys = SecretKeys(manifests, operatorSecrets, secretVolume.SecretName, name);
                    foreach (var item in secretVolume.Items ?? [])
                    {
                        Assert.True(keys.Contains(item.Key), $"{name}: Secret {secretVolume.SecretName} has no key {item.Key}.");
                    }
                    checkedReferences++;
                }
            }
        }
        Assert.True(checkedReferences >= 4, $"{manifests.Source}: only {checkedReferences} references found; the silos should refer to their ConfigMap and Secret.");
    }

    /// <summary>Services, PodDisruptionBudgets and the HorizontalPodAutoscaler select what exists and agree with each other.</summary>
    public static void SelectorsAndTargetsResolve(RenderedManifests manifests)
    {
        var deployments = manifests.All<V1Deployment>().ToList();
        bool Selects(IDictionary<string, string> selector, V1Deployment d) =>
            selector.Count > 0 && selector.All(s => d.Spec.Template.Metadata.Labels?.TryGetValue(s.Key, out var v) == true && v == s.Value);

        foreach (var deployment in deployments)
        {
            Assert.True(Selects(deployment.Spec.Selector.MatchLabels, deployment),
                $"{manifests.Source}: Deployment {deployment.Metadata.Name}'s selector does not match its own pod template.");
        }
        foreach (var service in manifests.All<V1Service>())
        {
            var selected = deployments.Where(d => Selects(service.Spec.Selector, d)).ToList();
            Assert.True(selected.Count == 1, $"{manifests.Source}: Service {service.Metadata.Name} selects {selected.Count} Deployments.");
            var containerPorts = selected[0].Spec.Template.Spec.Containers.SelectMany(c => c.Ports ?? []).ToList();
            foreach (var port in service.Spec.Ports)
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(containerPorts.Any(p => p.Name == target || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == target),
                    $"{manifests.Source}: Service {service.Metadata.Name} port {port.Name} targets {target}, which no container exposes.");
            }
        }
        foreach (var budget in manifests.All<V1PodDisruptionBudget>())
        {
            Assert.True(deployments.Count(d => Selects(budget.Spec.Selector.MatchLabels, d)) == 1,
                $"{manifests.Source}: PodDisruptionBudget {budget.Metadata.Name} must select exactly one Deployment.");
            Assert.True(budget.Spec.MaxUnavailable is not null ^ budget.Spec.MinAvailable is not null,
                $"{manifests.Source}: PodDisruptionBudget {budget.Metadata.Name} must set exactly one of maxUnavailable, minAvailable.");
        }
        Assert.Equal(2, manifests.All<V1PodDisruptionBudget>().Count(b => deployments.Any(d => Selects(b.Spec.Selector.MatchLabels, d)
            && d.Spec.Template.Metadata.Labels.TryGetValue(RenderedManifests.ComponentLabel, out var c) && c is "coordinator" or "gpu-worker")));

        foreach (var autoscaler in manifests.All<V2HorizontalPodAutoscaler>())
        {
            var target = autoscaler.Spec.ScaleTargetRef;
            Assert.Equal("Deployment", target.Kind);
            var deployment = deployments.SingleOrDefault(d => d.Metadata.Name == target.Name);
            Assert.True(deployment is not null, $"{manifests.Source}: HorizontalPodAutoscaler {autoscaler.Metadata.Name} targets missing Deployment {target.Name}.");
            Assert.True(deployment.Spec.Replicas is null,
                $"{manifests.Source}: Deployment {target.Name} sets replicas although an autoscaler owns them (each apply would reset the count).");
            Assert.InRange(autoscaler.Spec.MinReplicas ?? 1, 1, autoscaler.Spec.MaxReplicas);
            foreach (var metric in autoscaler.Spec.Metrics ?? [])
            {
                if (metric.Resource is { Target.Type: "Utilization" } resource)
                {
                    Assert.All(deployment.Spec.Template.Spec.Containers, c =>
                        Assert.True(c.Resources?.Requests?.ContainsKey(resource.Name) == true,
                            $"{manifests.Source}: utilisation of {resource.Name} needs a {resource.Name} request on container {c.Name}."));
                }
            }
        }
        Assert.Contains(manifests.All<V2HorizontalPodAutoscaler>(), a => a.Spec.ScaleTargetRef.Name == manifests.Silo("gpu-worker").Metadata.Name);
    }

    /// <summary>
    /// NetworkPolicies fence every silo: each rule names its sources and ports (none allows everyone); the silo and gateway
    /// ports are reachable only from silo pods, the metrics port only from a namespace, and the API port only on coordinators
    /// and only from a namespace (the ingress controller's); every container port of a silo but the probed http port has a rule.
    /// </summary>
    public static void SilosAreFencedByNetworkPolicies(RenderedManifests manifests)
    {
        var policies = manifests.All<V1NetworkPolicy>().ToList();
        Assert.True(policies.Count > 0, $"{manifests.Source}: no NetworkPolicy.");
        foreach (var silo in manifests.Silos)
        {
            var labels = silo.Spec.Template.Metadata.Labels;
            var role = labels[RenderedManifests.ComponentLabel];
            var applying = policies.Where(p => Selects(p.Spec.PodSelector.MatchLabels, labels)).ToList();
            Assert.True(applying.Count > 0, $"{manifests.Source}: no NetworkPolicy selects the {role} pods.");
            var allowedPorts = new HashSet<string>(StringComparer.Ordinal);
            foreach (var rule in applying.SelectMany(p => p.Spec.Ingress ?? []))
            {
                var name = $"{manifests.Source}: a NetworkPolicy rule of the {role} pods";
                Assert.True(rule.FromProperty?.Count > 0, $"{name} has no 'from' (it would admit everyone).");
                Assert.True(rule.Ports?.Count > 0, $"{name} has no ports (it would open every port).");
                Assert.DoesNotContain(rule.FromProperty, peer => peer.IpBlock is not null);
                foreach (var port in rule.Ports.Select(p => p.Port.Value))
                {
                    allowedPorts.Add(port);
                    switch (port)
                    {
                        case "silo" or "gateway" or "11111" or "30000":
                            Assert.True(rule.FromProperty.All(peer => peer.NamespaceSelector is null && peer.PodSelector is not null
                                && manifests.Silos.Any(other => Selects(peer.PodSelector.MatchLabels, other.Spec.Template.Metadata.Labels))),
                                $"{name} opens {port} to something other than silo pods.");
                            break;
                        case "metrics" or "9464":
                            Assert.True(rule.FromProperty.All(peer => peer.NamespaceSelector?.MatchLabels?.Count > 0), $"{name} opens {port} beyond one namespace.");
                            break;
                        case "http" or "8080":
                            Assert.True(role == "coordinator", $"{name} opens the API port on a {role}.");
                            Assert.True(rule.FromProperty.All(peer => peer.NamespaceSelector?.MatchLabels?.Count > 0), $"{name} opens the API beyond the ingress namespace.");
                            break;
                        default:
                            Assert.Fail($"{name} opens port {port}, which the silo does not serve.");
                            break;
                    }
                }
            }
            Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "silo", "gateway", "metrics" }, allowedPorts);
            Assert.Equal(role == "coordinator", allowedPorts.Contains("http"));
        }
    }

    private static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string> labels) =>
        selector is { Count: > 0 } && selector.All(pair => labels.TryGetValue(pair.Key, out var value) && value == pair.Value);

    /// <summary>The coordinator Service exposes HTTP 8080, the Orleans gateway 30000 and the silo port 11111.</summary>
    public static void CoordinatorServiceExposesTheContractPorts(RenderedManifests manifests)
    {
        var coordinatorLabels = manifests.Silo("coordinator").Spec.Template.Metadata.Labels;
        var service = Assert.Single(manifests.All<V1Service>(), s => s.Spec.Selector?.Count > 0
            && s.Spec.Selector.All(p => coordinatorLabels.TryGetValue(p.Key, out var v) && v == p.Value));
        var ports = service.Spec.Ports.ToDictionary(p => p.Name, p => p.Port);
        Assert.Equal(8080, ports.GetValueOrDefault("http"));
        Assert.Equal(30000, ports.GetValueOrDefault("gateway"));
        Assert.Equal(11111, ports.GetValueOrDefault("silo"));
    }

    /// <summary>The Secrets of the shipped template (k8s/overlays/production/secret.example.yaml).</summary>
    public static IReadOnlyList<V1Secret> OperatorSecretTemplate() =>
        KubernetesYaml.LoadAllFromString(Repository.ReadText(SecretTemplatePath)).OfType<V1Secret>().ToList();

    /// <summary>The environment a container ends up with: envFrom ConfigMap keys (as literal values), then env entries over them.</summary>
    public static Dictionary<string, V1EnvVar> EffectiveEnvironment(RenderedManifests manifests, V1Container container)
    {
        var environment = new Dictionary<string, V1EnvVar>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.ConfigMapRef is { } reference && manifests.ConfigMap(reference.Name) is { Data: { } data })
            {
                foreach (var (key, value) in data)
                {
                    environment[(source.Prefix ?? "") + key] = new V1EnvVar { Name = key, Value = value };
                }
            }
        }
        foreach (var variable in container.Env ?? [])
        {
            environment[variable.Name] = variable;
        }
        return environment;
    }

    private static IReadOnlySet<string> SecretKeys(RenderedManifests manifests, IReadOnlyList<V1Secret> operatorSecrets, string secretName, string where)
    {
        if (manifests.Secret(secretName) is { } rendered)
        {
            return RenderedManifests.KeysOf(rendered);
        }
        var template = operatorSecrets.SingleOrDefault(s => s.Metadata.Name == secretName);
        Assert.True(template is not null,
            $"{where}: Secret {secretName} is neither rendered nor described in {SecretTemplatePath} (the operator could not know its keys).");
        return RenderedManifests.KeysOf(template);
    }

    private static void AssertHttpProbe(string name, V1Container container, V1Probe? probe, string path)
    {
        Assert.True(probe?.HttpGet is not null, $"{name} probe: missing or not an HTTP GET.");
        Assert.Equal(path, probe.HttpGet.Path);
        var port = probe.HttpGet.Port.Value;
        var resolved = container.Ports?.SingleOrDefault(p => p.Name == port)?.ContainerPort
                       ?? (int.TryParse(port, out var number) ? number : -1);
        Assert.True(resolved == 8080, $"{name} probe: port {port} is not the HTTP port 8080.");
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex DependentVariable();
}
