using System.Text.RegularExpressions;
using AnomalyClustering.Deployment.Tests.Infrastructure;
using AnomalyClustering.Deployment.Tests.Kubernetes;
using k8s.Models;
using YamlDotNet.Serialization;

namespace AnomalyClustering.Deployment.Tests.Helm;

/// <summary>
/// The Helm chart, checked without helm where possible (parsing, every .Values path, helpers, files, parity with k8s/),
/// and rendered with <c>helm template</c> through the same checks as the kustomize overlays when helm is installed.
/// </summary>
public sealed partial class HelmChartTests
{
    private static string ChartFile(string relative) => Path.Combine([Repository.Chart, .. relative.Split('/')]);

    private static IEnumerable<string> TemplateFiles =>
        Directory.EnumerateFiles(Path.Combine(Repository.Chart, "templates"), "*", SearchOption.AllDirectories).Order();

    private static object? ParseYaml(string path) => new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(path));

    [Fact]
    public void Chart_yaml_and_values_yaml_parse()
    {
        var chart = Assert.IsType<Dictionary<object, object>>(ParseYaml(ChartFile("Chart.yaml")));
        Assert.Equal("v2", chart["apiVersion"]);
        Assert.Equal(Path.GetFileName(Repository.Chart), chart["name"]);
        Assert.Equal("application", chart["type"]);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", (string)chart["version"]);
        Assert.False(string.IsNullOrWhiteSpace(chart["appVersion"] as string));

        var values = Assert.IsType<Dictionary<object, object>>(ParseYaml(ChartFile("values.yaml")));
        Assert.Contains("image", values.Keys);
        Assert.Contains("gpuWorker", values.Keys);
    }

    [Fact]
    public void Every_values_path_the_templates_use_exists_in_values_yaml()
    {
        var values = ParseYaml(ChartFile("values.yaml"));
        var used = 0;
        foreach (var file in TemplateFiles)
        {
            foreach (Match reference in ValuesReference().Matches(File.ReadAllText(file)))
            {
                var path = reference.Groups[1].Value.TrimStart('.').Split('.');
                object? node = values;
                foreach (var segment in path)
                {
                    Assert.True(node is Dictionary<object, object> map && map.TryGetValue(segment, out node),
                        $"{Path.GetFileName(file)} uses .Values.{string.Join('.', path)}, which values.yaml does not define.");
                }
                used++;
            }
        }
        Assert.True(used > 40, $"only {used} .Values references found; the scan is broken.");
    }

    [Fact]
    public void Every_included_template_is_defined_and_every_file_read_exists()
    {
        var text = string.Join('\n', TemplateFiles.Select(File.ReadAllText));
        var defined = Definition().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var included = Inclusion().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(included);
        Assert.Subset(defined, included);

        var filesRead = FileRead().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("dashboards/anomaly-clustering.json", filesRead);
        Assert.All(filesRead, f => Assert.True(File.Exists(ChartFile(f)), $"the chart reads {f} with .Files.Get, but it is missing."));
        Assert.Equal(Path.GetFullPath(Repository.PathOf(Repository.DashboardPath)), Path.GetFullPath(ChartFile("dashboards/anomaly-clustering.json")));

        var values = (Dictionary<object, object>)ParseYaml(ChartFile("values.yaml"))!;
        var dashboard = (Dictionary<object, object>)values["dashboard"];
        Assert.Equal("1", ((Dictionary<object, object>)dashboard["labels"])["grafana_dashboard"]);
    }

    [Fact]
    public void Templates_make_the_same_resource_kinds_as_the_kustomize_overlays()
    {
        var chartKinds = TemplateFiles.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal))
            .SelectMany(f => TopLevelKind().Matches(File.ReadAllText(f)))
            .Select(m => $"{m.Groups[1].Value}/{m.Groups[2].Value}")
            .ToHashSet(StringComparer.Ordinal);
        // Helm leaves the namespace to `helm install --create-namespace`, and ships no Redis (it points at a managed one),
        // so not the dev overlay's volume claim for its in-cluster Redis either; everything else is the same.
        var kustomizeKinds = new[] { "dev", "production" }
            .SelectMany(o => Kustomize.Render("overlays/" + o).ApiKinds)
            .Where(k => k is not "v1/Namespace" and not "v1/PersistentVolumeClaim")
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(kustomizeKinds.Order(), chartKinds.Order());
    }

    [Fact]
    public void Templates_set_every_variable_and_config_key_the_kustomize_base_sets()
    {
        var templates = string.Join('\n', TemplateFiles.Select(File.ReadAllText));
        var production = Kustomize.Render("overlays/production");
        var names = production.Silos
            .SelectMany(d => ManifestChecks.EffectiveEnvironment(production, Assert.Single(d.Spec.Template.Spec.Containers)).Keys)
            .ToHashSet(StringComparer.Ordinal);
        Assert.True(names.Count > 20);
        foreach (var name in names)
        {
            Assert.True(Regex.IsMatch(templates, $@"(?<![A-Za-z0-9_]){Regex.Escape(name)}(?![A-Za-z0-9_])"),
                $"k8s/ sets {name} for the silos, but no chart template does.");
        }
    }

    /// <summary>Value sets the rendered-chart checks run with: defaults (operator's Secret), and development-style values.</summary>
    public static TheoryData<string> ValueSets => ["defaults", "dev"];

    private static RenderedManifests RenderChart(string valueSet) => valueSet switch
    {
        "defaults" => HelmTemplate.Render(),
        "dev" => HelmTemplate.Render(
            "--set", "secrets.create=true",
            "--set", "secrets.redisConnectionString=redis:6379",
            "--set", "secrets.blobConnectionString=UseDevelopmentStorage=true",
            "--set", "coordinator.replicas=1",
            "--set", "backbones.volume.persistentVolumeClaim.claimName=backbones",
            "--set", "backbones.catalog.resnet50=/models/resnet50.json",
            "--set", "telemetry.otlpEndpoint=http://otel-collector:4317"),
        _ => throw new ArgumentOutOfRangeException(nameof(valueSet)),
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void Rendered_chart_passes_the_deployment_checks(string valueSet)
    {
        var manifests = RenderChart(valueSet);
        ManifestChecks.GpuWorkerRunsOnlyOnGpuNodes(manifests);
        ManifestChecks.SiloPodsAreProbedSizedAndHardened(manifests);
        ManifestChecks.SiloEnvironmentFollowsTheContract(manifests);
        ManifestChecks.EveryReferencedKeyIsDefined(manifests, ManifestChecks.OperatorSecretTemplate());
        ManifestChecks.SelectorsAndTargetsResolve(manifests);
        ManifestChecks.CoordinatorServiceExposesTheContractPorts(manifests);
        ManifestChecks.SilosAreFencedByNetworkPolicies(manifests);
    }

    [Fact]
    public void Rendered_chart_makes_the_kinds_of_the_kustomize_overlays_and_the_labelled_dashboard()
    {
        var chart = RenderChart("dev");
        var kustomizeKinds = new[] { "dev", "production" }
            .SelectMany(o => Kustomize.Render("overlays/" + o).ApiKinds)
            // The dev overlay's own Redis keeps its append-only file on a claim; the chart takes Redis from outside.
            .Where(k => k is not ("v1/Namespace" or "v1/PersistentVolumeClaim"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(kustomizeKinds.Order(), chart.ApiKinds.Order());

        var dashboard = Assert.Single(chart.All<V1ConfigMap>(), c => c.Metadata.Labels.ContainsKey("grafana_dashboard"));
        Assert.Equal("1", dashboard.Metadata.Labels["grafana_dashboard"]);
        Assert.Equal(File.ReadAllText(Repository.PathOf(Repository.DashboardPath)).TrimEnd(), dashboard.Data["anomaly-clustering.json"].TrimEnd());
    }

    [Fact]
    public void Rendered_chart_follows_storage_and_autoscaling_values()
    {
        var manifests = HelmTemplate.Render(
            "--set", "storage.serviceUri=https://account.blob.core.windows.net",
            "--set", "gpuWorker.autoscaling.enabled=false",
            "--set", "gpuWorker.replicas=3");
        Assert.Empty(manifests.All<V2HorizontalPodAutoscaler>());
        Assert.Equal(3, manifests.Silo("gpu-worker").Spec.Replicas);
        foreach (var silo in manifests.Silos)
        {
            var environment = ManifestChecks.EffectiveEnvironment(manifests, Assert.Single(silo.Spec.Template.Spec.Containers));
            Assert.False(environment.ContainsKey("ConnectionStrings__Blobs"));
            Assert.Equal("https://account.blob.core.windows.net", environment["AnomalyClustering__Storage__ServiceUri"].Value);
        }
        ManifestChecks.EveryReferencedKeyIsDefined(manifests, ManifestChecks.OperatorSecretTemplate());
    }

    [Fact]
    public void Helm_lint_passes()
    {
        var output = ExternalTool.Helm.Run("", "lint", Repository.Chart, "--strict");
        Assert.Contains("0 chart(s) failed", output);
    }

    [GeneratedRegex(@"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"\{\{-?\s*define\s+""([^""]+)""")]
    private static partial Regex Definition();

    [GeneratedRegex(@"(?:include|template)\s+""([^""]+)""")]
    private static partial Regex Inclusion();

    [GeneratedRegex(@"\.Files\.Get\s+""([^""]+)""")]
    private static partial Regex FileRead();

    [GeneratedRegex(@"^apiVersion:\s*(\S+)\s*\r?\nkind:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex TopLevelKind();
}
