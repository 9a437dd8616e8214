using System.Collections.Concurrent;

namespace AnomalyClustering.Deployment.Tests.Infrastructure;

/// <summary>Renders k8s/ with <c>kubectl kustomize</c> (offline), once per kustomization and test run.</summary>
internal static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<RenderedManifests>> Rendered = new(StringComparer.Ordinal);

    /// <summary>
    /// Renders an overlay of k8s/ (e.g. <c>overlays/dev</c>), optionally with components of k8s/components added, the way an
    /// operator adds them (<c>components: [...]</c>): through a throw-away kustomization that refers to both.
    /// </summary>
    public static RenderedManifests Render(string overlay, params string[] components)
    {
        ExternalTool.Kubectl.Require("the Kubernetes manifests are rendered with `kubectl kustomize` (install kubectl).");
        var key = string.Join('+', [overlay, .. components]);
        return Rendered.GetOrAdd(key, _ => new Lazy<RenderedManifests>(() => RenderNow(overlay, components))).Value;
    }

    private static RenderedManifests RenderNow(string overlay, string[] components)
    {
        var overlayPath = Repository.PathOf("k8s/" + overlay);
        if (components.Length == 0)
        {
            return RenderedManifests.Parse($"kubectl kustomize k8s/{overlay}",
                ExternalTool.Kubectl.Run("", "kustomize", overlayPath));
        }
        // kustomize accepts only relative paths to other kustomizations.
        var folder = Directory.CreateTempSubdirectory("kustomize-").FullName;
        try
        {
            string Relative(string path) => Path.GetRelativePath(folder, path).Replace('\\', '/');
            var lines = new List<string>
            {
                "apiVersion: kustomize.config.k8s.io/v1beta1",
                "kind: Kustomization",
                "resources:",
                "  - " + Relative(overlayPath),
                "components:",
            };
            lines.AddRange(components.Select(c => "  - " + Relative(Repository.PathOf("k8s/components/" + c))));
            File.WriteAllLines(Path.Combine(folder, "kustomization.yaml"), lines);
            return RenderedManifests.Parse($"kubectl kustomize k8s/{overlay} + components {string.Join(", ", components)}",
                ExternalTool.Kubectl.Run("", "kustomize", folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Renders the chart with <c>helm template</c> when helm is installed (it is optional here).</summary>
internal static class HelmTemplate
{
    /// <summary>The release name the renders use.</summary>
    public const string Release = "ac";

    private static readonly ConcurrentDictionary<string, Lazy<RenderedManifests>> Rendered = new(StringComparer.Ordinal);

    /// <summary>Renders helm/anomaly-clustering with the given <c>--set</c> / <c>--set-string</c> arguments.</summary>
    public static RenderedManifests Render(params string[] setArguments)
    {
        ExternalTool.Helm.Require("the chart's static checks ran; rendering it needs helm 3 (set HELM=/path/to/helm).");
        var key = string.Join('\n', setArguments);
        return Rendered.GetOrAdd(key, _ => new Lazy<RenderedManifests>(() =>
            RenderedManifests.Parse($"helm template {Release} helm/anomaly-clustering {string.Join(' ', setArguments)}",
                ExternalTool.Helm.Run("", ["template", Release, Repository.Chart, "--namespace", "anomaly-clustering", .. setArguments])))).Value;
    }
}
